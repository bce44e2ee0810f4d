package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/transform/internal/duck"
	"github.com/riacho/riacho/services/transform/internal/mask"
)

// ErrIncompatibleModel means a model's output schema (derived from its SQL
// and its input's writer schema) breaks the output subject's compatibility
// rule; the model does not run until the model or the rule changes.
var ErrIncompatibleModel = errors.New("model output schema refused by the schema registry")

// prepared is what a model needs to transform records of one input writer
// schema: how to decode them and the output schema its SQL gives them.
type prepared struct {
	inID    uint32
	in      *duck.InputSchema
	out     *duck.OutputSchema
	cols    []duck.OutputColumn
	outID   uint32
	keys    []int // output column of each unique_key column
	version int   // output column of version_column, -1 without one
	masks   []colMask
}

type colMask struct {
	col    int
	policy mask.Policy
}

// prepare returns (building and caching) the preparation for input schema
// id: the output columns come from DuckDB describing the model's SQL over
// an empty input, and the output schema is registered under
// staging.<model>-value.
func (r *runner) prepare(ctx context.Context, id uint32) (*prepared, error) {
	if p, ok := r.schemas[id]; ok {
		return p, nil
	}
	text, err := r.e.deps.Registry.SchemaByID(ctx, int(id))
	if err != nil {
		return nil, fmt.Errorf("input writer schema %d: %w", id, err)
	}
	in, err := duck.NewInputSchema(text, r.in.Unwrap)
	if err != nil {
		return nil, fmt.Errorf("%w: input writer schema %d: %w", errUnusableSchema, id, err)
	}
	cols, err := r.duck.Describe(ctx, r.m.SQL, []duck.Input{{Table: r.in.Table, Schema: in}})
	if err != nil {
		return nil, fmt.Errorf("model %s does not run on input schema %d: %w", r.m.Name, id, err)
	}
	asString := map[string]bool{}
	if r.e.cfg.Masking {
		for c := range r.m.Config.Masking {
			asString[c] = true
		}
	}
	out, err := duck.NewOutputSchema(avroName(r.m.Name), "riacho.staging", cols, asString)
	if err != nil {
		return nil, fmt.Errorf("model %s output schema: %w", r.m.Name, err)
	}
	p := &prepared{inID: id, in: in, out: out, cols: cols, version: -1}
	var errs []error
	for _, k := range r.m.Config.UniqueKey {
		i := out.Index(k)
		if i < 0 {
			errs = append(errs, fmt.Errorf("unique_key column %q is not in the model's output (%s)", k, columnList(cols)))
		}
		p.keys = append(p.keys, i)
	}
	if vc := r.m.Config.VersionColumn; vc != "" {
		if p.version = out.Index(vc); p.version < 0 {
			errs = append(errs, fmt.Errorf("version_column %q is not in the model's output (%s)", vc, columnList(cols)))
		}
	}
	if r.e.cfg.Masking {
		for c, pol := range r.m.Config.Masking {
			i := out.Index(c)
			if i < 0 {
				errs = append(errs, fmt.Errorf("masking column %q is not in the model's output (%s)", c, columnList(cols)))
				continue
			}
			if c == r.m.Config.VersionColumn {
				errs = append(errs, fmt.Errorf("masking column %q is the version_column", c))
			}
			p.masks = append(p.masks, colMask{col: i, policy: pol})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("model %s: %w", r.m.Name, err)
	}
	if p.outID, err = r.register(ctx, out.JSON()); err != nil {
		return nil, err
	}
	r.schemas[id] = p
	return p, nil
}

// register registers the output schema; a refusal carries the registry's
// reasons.
func (r *runner) register(ctx context.Context, schema string) (uint32, error) {
	subject := r.m.OutputTopic + "-value"
	rc := r.e.deps.Registry
	ok, msgs, err := rc.CheckCompatibility(ctx, subject, schema, "latest")
	switch {
	case errors.Is(err, avro.ErrSubjectNotFound), errors.Is(err, avro.ErrVersionNotFound):
	case err != nil:
		return 0, fmt.Errorf("model %s: check output schema: %w", r.m.Name, err)
	case !ok:
		return 0, fmt.Errorf("%w: model %s, subject %s: %s", ErrIncompatibleModel, r.m.Name, subject, strings.Join(msgs, "; "))
	}
	id, err := rc.Register(ctx, subject, schema)
	if errors.Is(err, avro.ErrIncompatible) {
		return 0, fmt.Errorf("%w: model %s, subject %s: %w", ErrIncompatibleModel, r.m.Name, subject, err)
	}
	if err != nil {
		return 0, fmt.Errorf("model %s: register output schema: %w", r.m.Name, err)
	}
	return uint32(id), nil //nolint:gosec // registry ids are positive int32
}

// errUnusableSchema marks an input writer schema the engine cannot map.
var errUnusableSchema = errors.New("unusable input schema")

func avroName(model string) string {
	var b strings.Builder
	for i, c := range model {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', i > 0 && c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func columnList(cols []duck.OutputColumn) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
