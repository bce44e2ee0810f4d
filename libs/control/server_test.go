package control_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

func TestStatus(t *testing.T) {
	f := start(t, tokenConfig(), control.Hooks{
		Status: func(_ context.Context, r *controlv1.StatusResponse) {
			r.Lag = append(r.Lag, &controlv1.Lag{Group: "sink", Topic: "raw.crm.deals", Partition: 2, Records: 42})
		},
		Commands: map[string]control.CommandFunc{
			"snapshot": func(context.Context, map[string]string) (*controlv1.CommandResponse, error) { return nil, nil },
			"flush":    func(context.Context, map[string]string) (*controlv1.CommandResponse, error) { return nil, nil },
		},
	})
	f.state.Set(controlv1.State_STATE_RUNNING)
	f.state.Counter("records_in").Add(30)
	f.state.Counter("bytes_in").Add(1000)
	f.state.SetError(errors.New("kafka: broker not available"))
	f.state.SetDetail("endpoint", "https://intake.example/webhooks")

	resp, err := f.cli.Status(withToken(opsToken), &controlv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetService() != "intake" || resp.GetVersion() != "v1.2.3" || resp.GetState() != controlv1.State_STATE_RUNNING {
		t.Fatalf("identity/state wrong: %v", resp)
	}
	if age := time.Since(resp.GetStartedAt().AsTime()); age < 0 || age > time.Minute {
		t.Fatalf("started_at %v is not recent", resp.GetStartedAt().AsTime())
	}
	if resp.GetLastError() != "kafka: broker not available" || resp.GetLastErrorAt() == nil {
		t.Fatalf("last error = %q at %v", resp.GetLastError(), resp.GetLastErrorAt())
	}
	if !slices.Equal(resp.GetCommands(), []string{"flush", "snapshot"}) {
		t.Fatalf("commands = %v", resp.GetCommands())
	}
	if len(resp.GetRates()) != 2 || resp.GetRates()[0].GetName() != "bytes_in" ||
		resp.GetRates()[1].GetTotal() != 30 || resp.GetRates()[1].GetPerSecond() <= 0 {
		t.Fatalf("rates = %v", resp.GetRates())
	}
	if len(resp.GetLag()) != 1 || resp.GetLag()[0].GetRecords() != 42 {
		t.Fatalf("lag = %v", resp.GetLag())
	}
	if resp.GetDetails()["endpoint"] != "https://intake.example/webhooks" {
		t.Fatalf("details = %v", resp.GetDetails())
	}
}

func TestPauseResume(t *testing.T) {
	var paused []string
	resumed := 0
	refuse := false
	f := start(t, tokenConfig(), control.Hooks{
		Pause: func(_ context.Context, reason string) error {
			if refuse {
				return fmt.Errorf("mid-snapshot: %w", control.ErrFailedPrecondition)
			}
			paused = append(paused, reason)
			return nil
		},
		Resume: func(context.Context) error { resumed++; return nil },
	})
	f.state.Set(controlv1.State_STATE_RUNNING)

	pr, err := f.cli.Pause(withToken(ciToken), &controlv1.PauseRequest{Reason: "deploying v2"})
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetState() != controlv1.State_STATE_PAUSED || !slices.Equal(paused, []string{"deploying v2"}) {
		t.Fatalf("pause: state %v, hook got %v", pr.GetState(), paused)
	}
	st, err := f.cli.Status(withToken(opsToken), &controlv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	d := st.GetDetails()
	if st.GetState() != controlv1.State_STATE_PAUSED || d[control.DetailPausedReason] != "deploying v2" ||
		d[control.DetailPausedBy] != "ci" || d[control.DetailPausedAt] == "" {
		t.Fatalf("status after pause: %v %v", st.GetState(), d)
	}

	rr, err := f.cli.Resume(withToken(opsToken), &controlv1.ResumeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rr.GetState() != controlv1.State_STATE_RUNNING || resumed != 1 || f.state.Get() != controlv1.State_STATE_RUNNING {
		t.Fatalf("resume: state %v, hook calls %d", rr.GetState(), resumed)
	}
	st, err = f.cli.Status(withToken(opsToken), &controlv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.GetDetails()[control.DetailPausedReason]; ok {
		t.Fatalf("paused reason kept after resume: %v", st.GetDetails())
	}

	refuse = true
	_, err = f.cli.Pause(withToken(opsToken), &controlv1.PauseRequest{Reason: "again"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("refused pause: %v, want FailedPrecondition", err)
	}
	if f.state.Get() != controlv1.State_STATE_RUNNING {
		t.Fatalf("state changed by a refused pause: %v", f.state.Get())
	}
}

func TestUnimplementedWithoutHooks(t *testing.T) {
	f := start(t, tokenConfig(), control.Hooks{})
	ctx := withToken(opsToken)
	calls := map[string]func() error{
		"Pause":   func() error { _, err := f.cli.Pause(ctx, &controlv1.PauseRequest{}); return err },
		"Resume":  func() error { _, err := f.cli.Resume(ctx, &controlv1.ResumeRequest{}); return err },
		"Reload":  func() error { _, err := f.cli.Reload(ctx, &controlv1.ReloadRequest{}); return err },
		"Command": func() error { _, err := f.cli.Command(ctx, &controlv1.CommandRequest{Name: "flush"}); return err },
	}
	for _, name := range slices.Sorted(maps.Keys(calls)) {
		t.Run(name, func(t *testing.T) {
			if err := calls[name](); status.Code(err) != codes.Unimplemented {
				t.Fatalf("%s: %v, want Unimplemented", name, err)
			}
		})
	}
	if _, err := f.cli.Status(ctx, &controlv1.StatusRequest{}); err != nil {
		t.Fatalf("Status without hooks: %v", err)
	}
}

func TestReloadAndCommands(t *testing.T) {
	f := start(t, tokenConfig(), control.Hooks{
		Reload: func(context.Context) (string, error) { return "3 models, 2 suites", nil },
		Commands: map[string]control.CommandFunc{
			"replay": func(_ context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
				if args["offset"] == "" {
					return nil, fmt.Errorf("offset is required: %w", control.ErrInvalidArgument)
				}
				return &controlv1.CommandResponse{
					Output: "replaying " + args["topic"] + " from " + args["offset"],
					Result: map[string]string{"records": "120"},
				}, nil
			},
			"nil": func(context.Context, map[string]string) (*controlv1.CommandResponse, error) { return nil, nil },
			"grpc": func(context.Context, map[string]string) (*controlv1.CommandResponse, error) {
				return nil, status.Error(codes.Aborted, "busy")
			},
			"boom": func(context.Context, map[string]string) (*controlv1.CommandResponse, error) {
				return nil, errors.New("disk full")
			},
			"panic": func(context.Context, map[string]string) (*controlv1.CommandResponse, error) { panic("bug") },
		},
	})
	ctx := withToken(opsToken)
	rr, err := f.cli.Reload(ctx, &controlv1.ReloadRequest{})
	if err != nil || rr.GetSummary() != "3 models, 2 suites" {
		t.Fatalf("reload: %v %v", rr, err)
	}
	tests := []struct {
		name     string
		req      *controlv1.CommandRequest
		wantCode codes.Code
		wantOut  string
	}{
		{"with args", &controlv1.CommandRequest{Name: "replay", Args: map[string]string{"topic": "raw.x", "offset": "10"}}, codes.OK, "replaying raw.x from 10"},
		{"hook invalid argument", &controlv1.CommandRequest{Name: "replay"}, codes.InvalidArgument, ""},
		{"nil response", &controlv1.CommandRequest{Name: "nil"}, codes.OK, ""},
		{"status error kept", &controlv1.CommandRequest{Name: "grpc"}, codes.Aborted, ""},
		{"plain error internal", &controlv1.CommandRequest{Name: "boom"}, codes.Internal, ""},
		{"panic internal", &controlv1.CommandRequest{Name: "panic"}, codes.Internal, ""},
		{"unknown", &controlv1.CommandRequest{Name: "explode"}, codes.NotFound, ""},
		{"empty name", &controlv1.CommandRequest{}, codes.InvalidArgument, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.cli.Command(ctx, tt.req)
			if status.Code(err) != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.wantCode)
			}
			if err == nil && resp.GetOutput() != tt.wantOut {
				t.Fatalf("output %q, want %q", resp.GetOutput(), tt.wantOut)
			}
			if tt.wantOut != "" && resp.GetResult()["records"] != "120" {
				t.Fatalf("result %v", resp.GetResult())
			}
		})
	}
}
