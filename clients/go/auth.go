package toolkit

import "context"

// bearerToken sends the API key as "authorization: Bearer <key>" on every call.
type bearerToken struct {
	key string
	// secure says whether the connection uses TLS. gRPC refuses to send credentials that
	// require it over plain connections, so a plain http:// server (a local one) opts out.
	secure bool
}

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.key}, nil
}

func (b bearerToken) RequireTransportSecurity() bool {
	return b.secure
}
