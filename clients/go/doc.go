// Package toolkit is the Go client of the e2b-toolkit API.
//
// The API itself is the generated gRPC code in gen/e2b_toolkit/v1 (package toolkitv1): its
// request and response types and the comments on them are the documentation. This package adds
// only what every caller would otherwise write: a connection with bearer authentication (Dial),
// chunked file transfer over the upload and download streams, and reading the machine-readable
// reason off an error.
//
//	c, err := toolkit.Dial("http://127.0.0.1:50051", os.Getenv("TOOLKIT_API_KEY"))
//	if err != nil { ... }
//	defer c.Close()
//	res, err := c.Sandboxes.CreateSandbox(ctx, &toolkitv1.CreateSandboxRequest{})
package toolkit
