module github.com/e2b-toolkit/e2b-toolkit/clients/go

// Kept at what Debian 12 ships (golang-go 1.19, grpc-go 1.33, protobuf-go 1.28), which is what
// the offline build and tests here use (see offline.mjs).
go 1.19

require (
	github.com/golang/protobuf v1.5.2 // indirect
	google.golang.org/genproto v0.0.0-20200526211855-cb27e3aa2013
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
