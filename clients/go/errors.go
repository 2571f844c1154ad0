package toolkit

import (
	toolkitv1 "github.com/e2b-toolkit/e2b-toolkit/clients/go/gen/e2b_toolkit/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the domain of the ErrorInfo detail the toolkit attaches to its errors.
const ErrorDomain = "e2b-toolkit"

// ErrorInfo returns the toolkit's google.rpc.ErrorInfo detail of a call's error (reason and
// the ids the error is about, see errors.proto), or nil when the error carries none.
func ErrorInfo(err error) *errdetails.ErrorInfo {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info
		}
	}
	return nil
}

// Reason returns why a call failed, as an ErrorReason, or ERROR_REASON_UNSPECIFIED when the
// error has no toolkit reason (branch on status.Code(err) then).
func Reason(err error) toolkitv1.ErrorReason {
	info := ErrorInfo(err)
	if info == nil {
		return toolkitv1.ErrorReason_ERROR_REASON_UNSPECIFIED
	}
	return toolkitv1.ErrorReason(toolkitv1.ErrorReason_value["ERROR_REASON_"+info.GetReason()])
}
