// Quickstart: create a sandbox, run a command and some Python, then shut the sandbox down.
//
//	TOOLKIT_URL=http://127.0.0.1:50051 TOOLKIT_API_KEY=my-key go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	toolkit "github.com/e2b-toolkit/e2b-toolkit/clients/go"
	toolkitv1 "github.com/e2b-toolkit/e2b-toolkit/clients/go/gen/e2b_toolkit/v1"
	"google.golang.org/grpc/status"
)

func main() {
	url, key := os.Getenv("TOOLKIT_URL"), os.Getenv("TOOLKIT_API_KEY")
	if url == "" || key == "" {
		log.Fatal("set TOOLKIT_URL (e.g. http://127.0.0.1:50051) and TOOLKIT_API_KEY")
	}
	c, err := toolkit.Dial(url, key)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	created, err := c.Sandboxes.CreateSandbox(ctx, &toolkitv1.CreateSandboxRequest{})
	if err != nil {
		log.Fatal(describe(err))
	}
	id := created.GetSandbox().GetSandboxId()
	defer c.Sandboxes.ShutdownSandbox(context.Background(), &toolkitv1.ShutdownSandboxRequest{SandboxId: id})
	fmt.Println("sandbox", id)

	cmd, err := c.Commands.RunCommand(ctx, &toolkitv1.RunCommandRequest{SandboxId: id, Command: "uname -a"})
	if err != nil {
		log.Fatal(describe(err))
	}
	fmt.Printf("uname (exit %d): %s", cmd.GetExitCode(), cmd.GetStdout())

	run, err := c.Code.RunPythonCode(ctx, &toolkitv1.RunPythonCodeRequest{SandboxId: id, Code: "import sys; sys.version"})
	if err != nil {
		log.Fatal(describe(err))
	}
	for _, r := range run.GetExecution().GetResults() {
		fmt.Println("python:", r.GetText())
	}
}

// describe adds the toolkit's machine-readable reason to an error's status.
func describe(err error) string {
	st := status.Convert(err)
	return fmt.Sprintf("%s: %s (reason %s)", st.Code(), st.Message(), toolkit.Reason(err))
}
