package registry

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
)

// versionRef is a parsed {version} path segment.
type versionRef struct {
	n      int
	latest bool
	raw    string
}

// parseVersion accepts a positive 32-bit integer, "latest" or "-1" (latest).
func parseVersion(s string) (versionRef, *Error) {
	if s == "latest" || s == "-1" {
		return versionRef{latest: true, raw: s}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > math.MaxInt32 {
		return versionRef{}, apiErr(CodeInvalidVersion,
			"The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", s)
	}
	return versionRef{n: n, raw: s}, nil
}

// resolveVersion finds a version of subject. deleted admits soft-deleted
// versions; "latest" is the newest admitted version.
func (r *Registry) resolveVersion(subject string, ref versionRef, deleted bool) (*storedVersion, *Error) {
	vs := r.state.versions(subject, deleted)
	if len(vs) == 0 {
		return nil, errSubjectNotFound(subject)
	}
	if ref.latest {
		return vs[len(vs)-1], nil
	}
	for _, v := range vs {
		if v.Version == ref.n {
			return v, nil
		}
	}
	return nil, errVersionNotFound(subject, ref.n)
}

// newestFirst converts ascending versions to compatibility inputs, newest first.
func newestFirst(vs []*storedVersion) []oldVersion {
	out := make([]oldVersion, 0, len(vs))
	for _, v := range slices.Backward(vs) {
		out = append(out, oldVersion{version: v.Version, text: v.Schema})
	}
	return out
}

// register stores ps as a new version of subject unless a live version
// already has it, and returns the schema id.
func (r *Registry) register(ctx context.Context, subject string, ps parsedSchema) (int, *Error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	level, _ := r.state.level(subject, r.cfg.DefaultCompatibility)
	same, old, version := r.state.registration(subject, ps.text, strings.HasSuffix(level, "_TRANSITIVE"))
	if same != nil {
		return same.ID, nil
	}
	if msgs := checkCompatibility(level, ps.schema, old); len(msgs) > 0 {
		return 0, apiErr(CodeIncompatibleSchema,
			"Schema being registered is incompatible with an earlier schema for subject \"%s\", details: [%s]",
			subject, strings.Join(msgs, "; "))
	}
	id, found, next := r.state.idFor(ps.text)
	if !found {
		id = next
	}
	val := schemaValue{Subject: subject, Version: version, ID: id, Schema: ps.text}
	if err := r.write(ctx, record{key: encodeSchemaKey(subject, version), value: encodeJSON(val)}); err != nil {
		return 0, errStore(err)
	}
	r.metrics.registered.Inc()
	r.log.Info("registered schema", "subject", subject, "version", version, "id", id)
	return id, nil
}

// lookup finds the version of subject whose schema is ps.
func (r *Registry) lookup(subject string, ps parsedSchema, deleted bool) (*storedVersion, *Error) {
	vs := r.state.versions(subject, deleted)
	if len(vs) == 0 {
		return nil, errSubjectNotFound(subject)
	}
	for _, v := range slices.Backward(vs) {
		if v.ident == ps.text {
			return v, nil
		}
	}
	return nil, errSchemaNotFound()
}

// testCompatibility checks ps against one version of subject, or against the
// versions the subject's level names when ref is nil.
func (r *Registry) testCompatibility(subject string, ref *versionRef, ps parsedSchema) ([]string, *Error) {
	level, _ := r.state.level(subject, r.cfg.DefaultCompatibility)
	live := r.state.versions(subject, false)
	if ref == nil || (ref.latest && len(live) == 0) {
		return checkCompatibility(level, ps.schema, newestFirst(live)), nil
	}
	v, e := r.resolveVersion(subject, *ref, false)
	if e != nil {
		return nil, e
	}
	return checkCompatibility(level, ps.schema, []oldVersion{{version: v.Version, text: v.Schema}}), nil
}

// deleteSubject soft-deletes every live version of subject, or, when
// permanent, removes a soft-deleted subject and its config for good.
func (r *Registry) deleteSubject(ctx context.Context, subject string, permanent bool) ([]int, *Error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	all := r.state.versions(subject, true)
	if len(all) == 0 {
		return nil, errSubjectNotFound(subject)
	}
	live := r.state.versions(subject, false)
	var recs []record
	var out []int
	switch {
	case !permanent && len(live) == 0:
		return nil, apiErr(CodeSubjectSoftDeleted,
			"Subject '%s' was soft deleted. Set permanent=true to delete permanently", subject)
	case !permanent:
		for _, v := range live {
			val := v.schemaValue
			val.Deleted = true
			recs = append(recs, record{key: encodeSchemaKey(subject, v.Version), value: encodeJSON(val)})
			out = append(out, v.Version)
		}
	case len(live) > 0:
		return nil, apiErr(CodeSubjectNotSoftDeleted,
			"Subject '%s' was not deleted first before being permanently deleted", subject)
	default:
		for _, v := range all {
			recs = append(recs, record{key: encodeSchemaKey(subject, v.Version)})
			out = append(out, v.Version)
		}
		if _, own := r.state.level(subject, ""); own {
			recs = append(recs, record{key: encodeConfigKey(subject, false)})
		}
	}
	if err := r.write(ctx, recs...); err != nil {
		return nil, errStore(err)
	}
	r.log.Info("deleted subject", "subject", subject, "versions", out, "permanent", permanent)
	return out, nil
}

// deleteVersion soft-deletes a live version or, when permanent, removes a
// soft-deleted one.
func (r *Registry) deleteVersion(ctx context.Context, subject string, ref versionRef, permanent bool) (int, *Error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	// A numbered version is found even when soft deleted, to report 40406.
	v, e := r.resolveVersion(subject, ref, permanent || !ref.latest)
	if e != nil {
		return 0, e
	}
	var rec record
	switch {
	case !permanent && v.Deleted:
		return 0, apiErr(CodeVersionSoftDeleted,
			"Subject '%s' Version %d was soft deleted. Set permanent=true to delete permanently", subject, v.Version)
	case !permanent:
		val := v.schemaValue
		val.Deleted = true
		rec = record{key: encodeSchemaKey(subject, v.Version), value: encodeJSON(val)}
	case !v.Deleted:
		return 0, apiErr(CodeVersionNotSoftDeleted,
			"Subject '%s' Version %d was not deleted first before being permanently deleted", subject, v.Version)
	default:
		rec = record{key: encodeSchemaKey(subject, v.Version)}
	}
	if err := r.write(ctx, rec); err != nil {
		return 0, errStore(err)
	}
	r.log.Info("deleted schema version", "subject", subject, "version", v.Version, "permanent", permanent)
	return v.Version, nil
}

// normalizeLevel returns the canonical spelling of a level or a 42203 error.
func normalizeLevel(level string) (string, *Error) {
	l := strings.ToUpper(strings.TrimSpace(level))
	if !ValidLevel(l) {
		return "", apiErr(CodeInvalidCompatibilityLevel,
			"Invalid compatibility level %q. Valid values are %s", level, strings.Join(levels, ", "))
	}
	return l, nil
}

// setLevel stores the compatibility level of subject, or the global one.
func (r *Registry) setLevel(ctx context.Context, subject string, global bool, level string) *Error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	val := encodeJSON(configValue{CompatibilityLevel: level})
	if err := r.write(ctx, record{key: encodeConfigKey(subject, global), value: val}); err != nil {
		return errStore(err)
	}
	r.log.Info("set compatibility level", "subject", subject, "global", global, "level", level)
	return nil
}

// deleteLevel removes the level of subject (or the global one, which falls
// back to Config.DefaultCompatibility) and returns the level it had.
func (r *Registry) deleteLevel(ctx context.Context, subject string, global bool) (string, *Error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	var prev string
	if global {
		prev, _ = r.state.level("", r.cfg.DefaultCompatibility)
		if !r.state.hasGlobalLevel() {
			return prev, nil
		}
	} else {
		var own bool
		prev, own = r.state.level(subject, "")
		if !own {
			return "", subjectLevelNotConfigured(subject)
		}
	}
	if err := r.write(ctx, record{key: encodeConfigKey(subject, global)}); err != nil {
		return "", errStore(err)
	}
	return prev, nil
}

func subjectLevelNotConfigured(subject string) *Error {
	return apiErr(CodeSubjectLevelNotConfigured,
		"Subject '%s' does not have subject-level compatibility configured", subject)
}
