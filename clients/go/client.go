package toolkit

import (
	"crypto/tls"
	"fmt"
	"net/url"

	toolkitv1 "github.com/e2b-toolkit/e2b-toolkit/clients/go/gen/e2b_toolkit/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Client holds one connection to a toolkit server and a client per service, all sharing it.
type Client struct {
	Sandboxes toolkitv1.SandboxServiceClient
	Commands  toolkitv1.CommandServiceClient
	Code      toolkitv1.CodeServiceClient
	Files     toolkitv1.FileServiceClient
	Jobs      toolkitv1.JobServiceClient
	Network   toolkitv1.NetworkServiceClient

	conn *grpc.ClientConn
}

// Dial connects to the toolkit server at serverURL ("http://host:port" for plain HTTP/2 (h2c),
// "https://host[:port]" for TLS) and sends apiKey as a bearer token on every call. The
// connection is made lazily, so Dial fails only on bad arguments; extra options are passed
// to grpc.Dial after the ones Dial sets.
func Dial(serverURL, apiKey string, opts ...grpc.DialOption) (*Client, error) {
	if apiKey == "" {
		return nil, fmt.Errorf("toolkit: empty API key")
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("toolkit: server URL %q: %w", serverURL, err)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("toolkit: server URL %q must be scheme://host[:port] with no path", serverURL)
	}
	var transport grpc.DialOption
	target := u.Host
	switch u.Scheme {
	case "http":
		transport = grpc.WithInsecure()
	case "https":
		transport = grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{}))
		if u.Port() == "" {
			target = u.Host + ":443"
		}
	default:
		return nil, fmt.Errorf("toolkit: server URL %q must start with http:// or https://", serverURL)
	}
	all := append([]grpc.DialOption{
		transport,
		grpc.WithPerRPCCredentials(bearerToken{key: apiKey, secure: u.Scheme == "https"}),
	}, opts...)
	conn, err := grpc.Dial(target, all...)
	if err != nil {
		return nil, fmt.Errorf("toolkit: dial %s: %w", serverURL, err)
	}
	return &Client{
		Sandboxes: toolkitv1.NewSandboxServiceClient(conn),
		Commands:  toolkitv1.NewCommandServiceClient(conn),
		Code:      toolkitv1.NewCodeServiceClient(conn),
		Files:     toolkitv1.NewFileServiceClient(conn),
		Jobs:      toolkitv1.NewJobServiceClient(conn),
		Network:   toolkitv1.NewNetworkServiceClient(conn),
		conn:      conn,
	}, nil
}

// Close closes the connection; calls in flight fail with codes.Canceled.
func (c *Client) Close() error {
	return c.conn.Close()
}
