package api

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

// compileStatus maps a compile error: every one is the caller's request.
func compileStatus(err error) error {
	if _, ok := status.FromError(err); ok && status.Code(err) != codes.Unknown {
		return err
	}
	return status.Error(codes.InvalidArgument, err.Error())
}

// execStatus maps an execution error to a gRPC status: a warehouse that
// cannot be reached is Unavailable, a filter value the column's type
// rejects is InvalidArgument, the rest Internal.
func execStatus(ctx context.Context, err error) error {
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown {
		return err // the stream's own error (client gone)
	}
	switch {
	case ctx.Err() != nil:
		return status.FromContextError(ctx.Err()).Err()
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "query timed out: "+err.Error())
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "22"): // data exception: a filter value of the wrong type
			return status.Errorf(codes.InvalidArgument, "warehouse rejected a value: %s", pgErr.Message)
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "57"), strings.HasPrefix(pgErr.Code, "53"):
			return status.Errorf(codes.Unavailable, "warehouse unavailable: %s", pgErr.Message)
		case pgErr.Code == "42P01": // undefined table: the loader has not created it yet
			return status.Errorf(codes.Unavailable, "warehouse table missing (has the loader started?): %s", pgErr.Message)
		}
		return status.Errorf(codes.Internal, "warehouse query failed: %s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	var duckErr *duckdb.Error
	if errors.As(err, &duckErr) {
		switch duckErr.Type {
		case duckdb.ErrorTypeConversion, duckdb.ErrorTypeOutOfRange, duckdb.ErrorTypeInvalidInput:
			return status.Errorf(codes.InvalidArgument, "warehouse rejected a value: %s", duckErr.Msg)
		case duckdb.ErrorTypeConnection, duckdb.ErrorTypeIO:
			return status.Errorf(codes.Unavailable, "warehouse unavailable: %s", duckErr.Msg)
		case duckdb.ErrorTypeCatalog:
			return status.Errorf(codes.Unavailable, "warehouse table missing (has the loader started?): %s", duckErr.Msg)
		}
		return status.Errorf(codes.Internal, "warehouse query failed: %s", duckErr.Msg)
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, sql.ErrConnDone) ||
		pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "closed pool") || strings.Contains(err.Error(), "database is closed") {
		return status.Errorf(codes.Unavailable, "warehouse unavailable: %v", err)
	}
	return status.Errorf(codes.Internal, "warehouse query failed: %v", err)
}

// cacheKey identifies an answer: the request (without no_cache), the row
// limit applied for the caller, the dialect and the definitions' version.
func cacheKey(req *metricsv1.QueryRequest, limit int, d store.Dialect, version int64) string {
	r := proto.Clone(req).(*metricsv1.QueryRequest)
	r.NoCache = false
	r.Limit = int32(min(limit, math.MaxInt32)) //nolint:gosec // bounded just above
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", d, version)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// argString renders a bound parameter for Explain.
func argString(a any) string {
	switch x := a.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case *big.Rat:
		return x.RatString()
	case []string:
		return "{" + strings.Join(x, ",") + "}"
	default:
		return fmt.Sprint(x)
	}
}
