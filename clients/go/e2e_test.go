package toolkit_test

// End-to-end test against a real toolkit server: TOOLKIT_URL names it (e.g.
// http://127.0.0.1:50051) and TOOLKIT_API_KEY the key (any key works against a loopback server
// with no keys configured). Skipped when TOOLKIT_URL is unset; test/clients/go.test.ts runs it
// against an in-process server.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	toolkit "github.com/e2b-toolkit/e2b-toolkit/clients/go"
	toolkitv1 "github.com/e2b-toolkit/e2b-toolkit/clients/go/gen/e2b_toolkit/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func dialTestServer(t *testing.T) *toolkit.Client {
	t.Helper()
	url := os.Getenv("TOOLKIT_URL")
	if url == "" {
		t.Skip("TOOLKIT_URL is not set")
	}
	key := os.Getenv("TOOLKIT_API_KEY")
	if key == "" {
		key = "go-client-test"
	}
	c, err := toolkit.Dial(url, key)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEndToEnd(t *testing.T) {
	c := dialTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	created, err := c.Sandboxes.CreateSandbox(ctx, &toolkitv1.CreateSandboxRequest{
		Timeout: durationpb.New(5 * time.Minute),
	})
	if err != nil {
		t.Fatalf("CreateSandbox: %v", err)
	}
	sandboxID := created.GetSandbox().GetSandboxId()
	shutDown := false
	defer func() {
		// Clean up even when a step failed; the step below checks shutdown itself.
		if !shutDown {
			c.Sandboxes.ShutdownSandbox(context.Background(), &toolkitv1.ShutdownSandboxRequest{SandboxId: sandboxID})
		}
	}()

	t.Run("command", func(t *testing.T) {
		res, err := c.Commands.RunCommand(ctx, &toolkitv1.RunCommandRequest{
			SandboxId: sandboxID,
			Command:   "echo hello from go; echo oops >&2; exit 3",
		})
		if err != nil {
			t.Fatalf("RunCommand: %v", err)
		}
		if res.GetExitCode() != 3 || res.GetStdout() != "hello from go\n" || res.GetStderr() != "oops\n" {
			t.Fatalf("RunCommand = exit %d, stdout %q, stderr %q", res.GetExitCode(), res.GetStdout(), res.GetStderr())
		}
	})

	t.Run("python", func(t *testing.T) {
		run := func(code string) *toolkitv1.Execution {
			res, err := c.Code.RunPythonCode(ctx, &toolkitv1.RunPythonCodeRequest{SandboxId: sandboxID, Code: code})
			if err != nil {
				t.Fatalf("RunPythonCode(%q): %v", code, err)
			}
			return res.GetExecution()
		}
		run("x = 20")
		exec := run("print('sum', x + 1)\nx * 2 + 2")
		if exec.GetError() != nil {
			t.Fatalf("execution error: %v", exec.GetError())
		}
		if exec.GetStdout() != "sum 21\n" {
			t.Fatalf("stdout = %q", exec.GetStdout())
		}
		if len(exec.GetResults()) != 1 || exec.GetResults()[0].GetText() != "42" {
			t.Fatalf("results = %v", exec.GetResults())
		}
	})

	t.Run("background job logs", func(t *testing.T) {
		started, err := c.Commands.StartCommand(ctx, &toolkitv1.StartCommandRequest{
			SandboxId: sandboxID,
			Command:   "for i in 1 2 3; do echo line $i; sleep 0.2; done; echo done >&2",
		})
		if err != nil {
			t.Fatalf("StartCommand: %v", err)
		}
		tail, err := c.Jobs.TailJobLogs(ctx, &toolkitv1.TailJobLogsRequest{JobId: started.GetJob().GetJobId()})
		if err != nil {
			t.Fatalf("TailJobLogs: %v", err)
		}
		var stdout, stderr bytes.Buffer
		var ended *toolkitv1.Job
		for {
			msg, err := tail.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("tail: %v", err)
			}
			// Getters return nil for the events a message is not, which reads better than a
			// type switch over the oneof wrappers (named Ended_ etc. next to the nested types).
			stdout.Write(msg.GetStdout().GetData())
			stderr.Write(msg.GetStderr().GetData())
			if e := msg.GetEnded(); e != nil {
				ended = e.GetJob()
			}
		}
		if ended == nil {
			t.Fatal("the log stream ended without an ended event")
		}
		if ended.GetStatus() != toolkitv1.JobStatus_JOB_STATUS_DONE || ended.GetExitCode() != 0 {
			t.Fatalf("job ended as %v with exit code %d", ended.GetStatus(), ended.GetExitCode())
		}
		if stdout.String() != "line 1\nline 2\nline 3\n" || stderr.String() != "done\n" {
			t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
		}
	})

	t.Run("file upload and download", func(t *testing.T) {
		// Bigger than one upload chunk, so the streams carry several.
		content := []byte(strings.Repeat("toolkit go client\n", 40_000))
		size := int64(len(content))
		up, err := c.UploadFile(ctx, &toolkitv1.UploadFileHeader{SandboxId: sandboxID, Path: "data/upload.txt", SizeBytes: &size}, bytes.NewReader(content))
		if err != nil {
			t.Fatalf("UploadFile: %v", err)
		}
		if up.GetSizeBytes() != size {
			t.Fatalf("uploaded %d bytes, server reports %d", size, up.GetSizeBytes())
		}
		var got bytes.Buffer
		down, err := c.DownloadFile(ctx, &toolkitv1.DownloadFileRequest{SandboxId: sandboxID, Path: "/home/user/data/upload.txt"}, &got)
		if err != nil {
			t.Fatalf("DownloadFile: %v", err)
		}
		if !bytes.Equal(got.Bytes(), content) || down.GetSizeBytes() != size {
			t.Fatalf("downloaded %d bytes (described as %d), want %d", got.Len(), down.GetSizeBytes(), size)
		}
	})

	t.Run("invalid argument", func(t *testing.T) {
		_, err := c.Commands.RunCommand(ctx, &toolkitv1.RunCommandRequest{SandboxId: sandboxID, Command: ""})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("empty command: got %v, want INVALID_ARGUMENT", err)
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		if _, err := c.Sandboxes.ShutdownSandbox(ctx, &toolkitv1.ShutdownSandboxRequest{SandboxId: sandboxID}); err != nil {
			t.Fatalf("ShutdownSandbox: %v", err)
		}
		shutDown = true
		_, err := c.Commands.RunCommand(ctx, &toolkitv1.RunCommandRequest{SandboxId: sandboxID, Command: "true"})
		if status.Code(err) != codes.NotFound || toolkit.Reason(err) != toolkitv1.ErrorReason_ERROR_REASON_SANDBOX_SHUT_DOWN {
			t.Fatalf("command after shutdown: got %v (reason %v), want NOT_FOUND SANDBOX_SHUT_DOWN", err, toolkit.Reason(err))
		}
	})
}

func TestDialRejectsBadArguments(t *testing.T) {
	for _, tc := range []struct{ url, key string }{
		{"127.0.0.1:50051", "k"},
		{"ftp://127.0.0.1:50051", "k"},
		{"http://127.0.0.1:50051/api", "k"},
		{"http://127.0.0.1:50051", ""},
	} {
		if c, err := toolkit.Dial(tc.url, tc.key); err == nil {
			c.Close()
			t.Errorf("Dial(%q, %q) succeeded, want an error", tc.url, tc.key)
		}
	}
}
