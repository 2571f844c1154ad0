package toolkit

import (
	"context"
	"errors"
	"fmt"
	"io"

	toolkitv1 "github.com/e2b-toolkit/e2b-toolkit/clients/go/gen/e2b_toolkit/v1"
)

// uploadChunkSize is within the 64 KiB to 1 MiB the server suggests per chunk.
const uploadChunkSize = 256 << 10

// UploadFile streams r into the sandbox file that header names (see UploadFileHeader). Memory
// use is one chunk whatever the file's size. Returns the file as written.
func (c *Client) UploadFile(ctx context.Context, header *toolkitv1.UploadFileHeader, r io.Reader) (*toolkitv1.FileInfo, error) {
	if header == nil {
		return nil, fmt.Errorf("toolkit: UploadFile needs a header")
	}
	stream, err := c.Files.UploadFile(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&toolkitv1.UploadFileRequest{Part: &toolkitv1.UploadFileRequest_Header{Header: header}}); err != nil {
		return nil, sendError(stream, err)
	}
	buf := make([]byte, uploadChunkSize)
	for {
		n, readErr := r.Read(buf)
		if n > 0 {
			// Send keeps no reference to the chunk once it returns, so buf can be reused.
			if err := stream.Send(&toolkitv1.UploadFileRequest{Part: &toolkitv1.UploadFileRequest_Chunk{Chunk: buf[:n]}}); err != nil {
				return nil, sendError(stream, err)
			}
		}
		if errors.Is(readErr, io.EOF) {
			break
		}
		if readErr != nil {
			return nil, fmt.Errorf("toolkit: reading the upload: %w", readErr)
		}
	}
	res, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return res.GetFile(), nil
}

// sendError returns why a client stream stopped: Send reports only io.EOF when the server
// ended the call, and the status it ended with comes from receiving the response.
func sendError(stream toolkitv1.FileService_UploadFileClient, err error) error {
	if errors.Is(err, io.EOF) {
		if _, recvErr := stream.CloseAndRecv(); recvErr != nil {
			return recvErr
		}
	}
	return err
}

// DownloadFile streams the sandbox file that req names into w and returns its description.
func (c *Client) DownloadFile(ctx context.Context, req *toolkitv1.DownloadFileRequest, w io.Writer) (*toolkitv1.FileInfo, error) {
	stream, err := c.Files.DownloadFile(ctx, req)
	if err != nil {
		return nil, err
	}
	var file *toolkitv1.FileInfo
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if file == nil {
				return nil, fmt.Errorf("toolkit: download of %q ended before the file's description", req.GetPath())
			}
			return file, nil
		}
		if err != nil {
			return nil, err
		}
		switch part := msg.GetPart().(type) {
		case *toolkitv1.DownloadFileResponse_File:
			file = part.File
		case *toolkitv1.DownloadFileResponse_Chunk:
			if _, err := w.Write(part.Chunk); err != nil {
				return nil, fmt.Errorf("toolkit: writing the download: %w", err)
			}
		}
	}
}
