package avro

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Schema is one version of a subject.
type Schema struct {
	Subject string `json:"subject"`
	ID      int    `json:"id"`
	Version int    `json:"version"`
	Schema  string `json:"schema"`
}

type schemaBody struct {
	Schema string `json:"schema"`
}

func subjectPath(subject string) string { return "/subjects/" + url.PathEscape(subject) }

// Register registers schema (Avro JSON) under subject and returns its id;
// registering a schema that is already there returns the existing id. The
// answer is cached per (subject, schema), so repeated calls cost nothing.
// A schema the subject's compatibility rule rejects fails with an error
// matching ErrIncompatible; an unparsable one with ErrInvalidSchema.
func (c *Client) Register(ctx context.Context, subject, schema string) (int, error) {
	key := subjectSchema{subject, schema}
	c.mu.RLock()
	id, ok := c.idBySubj[key]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	var out struct {
		ID int `json:"id"`
	}
	if err := c.call(ctx, http.MethodPost, subjectPath(subject)+"/versions", schemaBody{schema}, &out, false); err != nil {
		return 0, fmt.Errorf("register schema under %s: %w", subject, err)
	}
	c.mu.Lock()
	c.idBySubj[key] = out.ID
	c.schemaIDs[out.ID] = schema
	c.mu.Unlock()
	return out.ID, nil
}

// SchemaByID returns the schema text of a global schema id; ids never
// change meaning, so answers are cached. An unknown id fails with an error
// matching ErrSchemaNotFound.
func (c *Client) SchemaByID(ctx context.Context, id int) (string, error) {
	c.mu.RLock()
	s, ok := c.schemaIDs[id]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	var out schemaBody
	if err := c.call(ctx, http.MethodGet, "/schemas/ids/"+strconv.Itoa(id), nil, &out, true); err != nil {
		return "", fmt.Errorf("schema id %d: %w", id, err)
	}
	c.mu.Lock()
	c.schemaIDs[id] = out.Schema
	c.mu.Unlock()
	return out.Schema, nil
}

// Latest returns the newest version of subject (not cached).
func (c *Client) Latest(ctx context.Context, subject string) (Schema, error) {
	return c.version(ctx, subject, "latest")
}

// Version returns version v of subject.
func (c *Client) Version(ctx context.Context, subject string, v int) (Schema, error) {
	return c.version(ctx, subject, strconv.Itoa(v))
}

func (c *Client) version(ctx context.Context, subject, v string) (Schema, error) {
	var out Schema
	if err := c.call(ctx, http.MethodGet, subjectPath(subject)+"/versions/"+url.PathEscape(v), nil, &out, true); err != nil {
		return Schema{}, fmt.Errorf("subject %s version %s: %w", subject, v, err)
	}
	if out.Subject == "" {
		out.Subject = subject
	}
	return out, nil
}

// CheckCompatibility asks whether schema could be registered under subject,
// tested against version ("latest" when empty, or a number). It returns the
// registry's verdict and its explanations; err is for failures to ask.
func (c *Client) CheckCompatibility(ctx context.Context, subject, schema, version string) (ok bool, messages []string, err error) {
	if version == "" {
		version = "latest"
	}
	var out struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages"`
	}
	path := "/compatibility" + subjectPath(subject) + "/versions/" + url.PathEscape(version) + "?verbose=true"
	if err := c.call(ctx, http.MethodPost, path, schemaBody{schema}, &out, true); err != nil {
		return false, nil, fmt.Errorf("check compatibility with %s version %s: %w", subject, version, err)
	}
	return out.IsCompatible, out.Messages, nil
}

func configPath(subject string) string {
	if subject == "" {
		return "/config"
	}
	return "/config/" + url.PathEscape(subject)
}

// Compatibility returns the compatibility level in force for subject (its
// own, or the global one if it has none); subject "" asks for the global
// level.
func (c *Client) Compatibility(ctx context.Context, subject string) (string, error) {
	var out struct {
		Level string `json:"compatibilityLevel"`
		Alt   string `json:"compatibility"`
	}
	path := configPath(subject)
	if subject != "" {
		path += "?defaultToGlobal=true"
	}
	if err := c.call(ctx, http.MethodGet, path, nil, &out, true); err != nil {
		return "", fmt.Errorf("compatibility of %q: %w", subject, err)
	}
	if out.Level == "" {
		out.Level = out.Alt
	}
	return out.Level, nil
}

// SetCompatibility sets subject's compatibility level (NONE, BACKWARD,
// BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL,
// FULL_TRANSITIVE); subject "" sets the global level.
func (c *Client) SetCompatibility(ctx context.Context, subject, level string) error {
	body := struct {
		Compatibility string `json:"compatibility"`
	}{level}
	if err := c.call(ctx, http.MethodPut, configPath(subject), body, nil, false); err != nil {
		return fmt.Errorf("set compatibility of %q to %s: %w", subject, level, err)
	}
	return nil
}

// Subjects lists the registry's subjects.
func (c *Client) Subjects(ctx context.Context) ([]string, error) {
	var out []string
	if err := c.call(ctx, http.MethodGet, "/subjects", nil, &out, true); err != nil {
		return nil, fmt.Errorf("list subjects: %w", err)
	}
	return out, nil
}
