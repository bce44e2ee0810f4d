package poll

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FieldConfig names one source field captured as a typed column.
//
// In YAML it is either a mapping {name: DocTotal, type: "decimal(19,6)"} or a
// plain scalar "DocTotal" (type left to the default of its place).
type FieldConfig struct {
	// Name is the field's name in the source's JSON objects.
	Name string `yaml:"name"`
	// Type is one of string, long, double, boolean, decimal(p,s), date, timestamp.
	Type string `yaml:"type"`
}

// UnmarshalYAML accepts the scalar and mapping forms and rejects unknown keys.
func (f *FieldConfig) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		f.Name = n.Value
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: field %s: want a scalar", v.Line, k.Value)
			}
			switch k.Value {
			case "name":
				f.Name = v.Value
			case "type":
				f.Type = v.Value
			default:
				return fmt.Errorf("line %d: field %q not found in type poll.FieldConfig", k.Line, k.Value)
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: a field is a name or a {name, type} mapping", n.Line)
}

// EntityConfig is one REST entity (an OData entity set) to capture.
type EntityConfig struct {
	// Name is the entity set as the API spells it: "Invoices", "Deals".
	Name string `yaml:"name"`
	// Key are the fields identifying a row; the default depends on the source
	// (SAP B1: DocEntry long, CardCode for BusinessPartners, ItemCode for
	// Items; Ploomes: Id long).
	Key []FieldConfig `yaml:"key"`
	// Fields are extra fields captured as typed columns beside _raw.
	Fields []FieldConfig `yaml:"fields"`
	// UpdatedAt is the change-date field (SAP B1 default UpdateDate, Ploomes
	// LastUpdateDate).
	UpdatedAt string `yaml:"updated_at"`
	// UpdatedTime is SAP B1's change-time field ("HH:MM:SS"), default
	// UpdateTime; "none" for entities that only have a date.
	UpdatedTime string `yaml:"updated_time"`
}

// Table is the topic name of the entity: its name lower-cased.
func (e EntityConfig) Table() string { return strings.ToLower(e.Name) }

func (e EntityConfig) validate(path string, sapb1 bool) error {
	var errs []error
	if e.Name == "" {
		errs = append(errs, fmt.Errorf("%s.name: required", path))
	} else if strings.ContainsAny(e.Name, "/?#&'\"() ") {
		errs = append(errs, fmt.Errorf("%s.name: %q is not an entity set name", path, e.Name))
	}
	if len(e.Key) == 0 {
		errs = append(errs, fmt.Errorf("%s.key: required", path))
	}
	seen := map[string]bool{RawColumn: true}
	check := func(p string, f FieldConfig) {
		if f.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", p))
			return
		}
		if seen[f.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q given twice (or reserved)", p, f.Name))
		}
		seen[f.Name] = true
		if _, err := ParseFieldType(f.Type); err != nil {
			errs = append(errs, fmt.Errorf("%s.type: %w", p, err))
		}
	}
	for i, k := range e.Key {
		check(fmt.Sprintf("%s.key[%d]", path, i), k)
		if t, err := ParseFieldType(k.Type); err == nil && !t.keyable() {
			errs = append(errs, fmt.Errorf("%s.key[%d].type: %s cannot be a key (string, long, date or timestamp)", path, i, k.Type))
		}
	}
	for i, f := range e.Fields {
		check(fmt.Sprintf("%s.fields[%d]", path, i), f)
	}
	if e.UpdatedAt == "" {
		errs = append(errs, fmt.Errorf("%s.updated_at: required", path))
	}
	if sapb1 && e.UpdatedTime == "" {
		errs = append(errs, fmt.Errorf("%s.updated_time: required (\"none\" for date-only entities)", path))
	}
	if !sapb1 && e.UpdatedTime != "" {
		errs = append(errs, fmt.Errorf("%s.updated_time: only SAP B1 entities have a separate time field", path))
	}
	return errors.Join(errs...)
}

// SAPB1Config configures the capture of SAP Business One Service Layer entities.
type SAPB1Config struct {
	// URL is the Service Layer root, e.g. https://sap:50000/b1s/v1 (a URL
	// without a path gets /b1s/v1).
	URL string `yaml:"url"`
	// CompanyDB is the company database to log in to.
	CompanyDB string `yaml:"company_db"`
	// Username is the Service Layer user.
	Username string `yaml:"username"`
	// PasswordEnv names the environment variable holding the password.
	PasswordEnv string `yaml:"password_env"`
	// Entities are the entity sets to capture.
	Entities []EntityConfig `yaml:"entities"`
	// PageSize is the number of rows asked per request (Prefer: odata.maxpagesize).
	PageSize int `yaml:"page_size"`
	// Interval is the pause between polls once an entity has caught up.
	Interval time.Duration `yaml:"interval"`
	// Overlap is subtracted from the stored cursor at the start of each poll,
	// so rows committed late with an earlier UpdateTime are still read; rows
	// already emitted are dropped by key.
	Overlap time.Duration `yaml:"overlap"`
	// TimezoneOffset is the Service Layer's local UTC offset ("-03:00"):
	// UpdateDate/UpdateTime are local wall-clock values.
	TimezoneOffset string `yaml:"timezone_offset"`
	// InsecureSkipVerify accepts any TLS certificate (self-signed Service
	// Layer installs). Off by default.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// Timeout bounds one HTTP request.
	Timeout time.Duration `yaml:"timeout"`
	// Schema is the topic's schema part: raw.<source>.<schema>.<entity>.
	Schema string `yaml:"schema"`
}

// Defaults fills every unset field with its default, entities included.
func (c *SAPB1Config) Defaults() {
	if c.URL != "" {
		if u, err := url.Parse(c.URL); err == nil && (u.Path == "" || u.Path == "/") {
			u.Path = "/b1s/v1"
			c.URL = u.String()
		}
	}
	if c.PasswordEnv == "" {
		c.PasswordEnv = "RIACHO_SAPB1_PASSWORD"
	}
	if c.PageSize == 0 {
		c.PageSize = 100
	}
	if c.Interval == 0 {
		c.Interval = time.Minute
	}
	if c.Overlap == 0 {
		c.Overlap = 5 * time.Minute
	}
	if c.TimezoneOffset == "" {
		c.TimezoneOffset = "-03:00"
	}
	if c.Timeout == 0 {
		c.Timeout = time.Minute
	}
	if c.Schema == "" {
		c.Schema = "b1"
	}
	for i := range c.Entities {
		e := &c.Entities[i]
		if len(e.Key) == 0 {
			switch e.Name {
			case "BusinessPartners":
				e.Key = []FieldConfig{{Name: "CardCode", Type: "string"}}
			case "Items":
				e.Key = []FieldConfig{{Name: "ItemCode", Type: "string"}}
			default:
				e.Key = []FieldConfig{{Name: "DocEntry", Type: "long"}}
			}
		}
		defaultTypes(e, "long")
		if e.UpdatedAt == "" {
			e.UpdatedAt = "UpdateDate"
		}
		if e.UpdatedTime == "" {
			e.UpdatedTime = "UpdateTime"
		}
	}
}

// defaultTypes gives untyped keys keyType and untyped fields string.
func defaultTypes(e *EntityConfig, keyType string) {
	for j := range e.Key {
		if e.Key[j].Type == "" {
			e.Key[j].Type = keyType
		}
	}
	for j := range e.Fields {
		if e.Fields[j].Type == "" {
			e.Fields[j].Type = "string"
		}
	}
}

// Validate reports every problem, each naming its YAML field.
func (c SAPB1Config) Validate() error {
	var errs []error
	errs = append(errs, validateURL("url", c.URL))
	if c.CompanyDB == "" {
		errs = append(errs, errors.New("company_db: required"))
	}
	if c.Username == "" {
		errs = append(errs, errors.New("username: required"))
	}
	if c.PasswordEnv == "" {
		errs = append(errs, errors.New("password_env: required"))
	}
	errs = append(errs, validateCommon(c.Entities, c.PageSize, 0, c.Interval, c.Overlap, c.Timeout, c.Schema, true))
	if _, err := ParseOffset(c.TimezoneOffset); err != nil {
		errs = append(errs, fmt.Errorf("timezone_offset: %w", err))
	}
	return errors.Join(errs...)
}

// Password reads the password from the environment variable PasswordEnv.
func (c SAPB1Config) Password() (string, error) {
	p := os.Getenv(c.PasswordEnv)
	if p == "" {
		return "", fmt.Errorf("password_env: environment variable %s is empty", c.PasswordEnv)
	}
	return p, nil
}

// PloomesConfig configures the capture of Ploomes CRM entities.
type PloomesConfig struct {
	// URL is the API root, default https://api2.ploomes.com.
	URL string `yaml:"url"`
	// UserKeyEnv names the environment variable holding the integration
	// user's key (sent as the User-Key header).
	UserKeyEnv string `yaml:"user_key_env"`
	// Entities are the entity sets to capture.
	Entities []EntityConfig `yaml:"entities"`
	// PageSize is $top (Ploomes allows at most 300).
	PageSize int `yaml:"page_size"`
	// RatePerMinute is this client's request budget (the account's limit is
	// 120 requests/min, shared by every integration).
	RatePerMinute int `yaml:"rate_per_minute"`
	// Interval is the pause between polls once an entity has caught up.
	Interval time.Duration `yaml:"interval"`
	// Overlap is subtracted from the stored cursor at the start of each poll.
	Overlap time.Duration `yaml:"overlap"`
	// TimezoneOffset is the offset the filter's timestamps are written with.
	TimezoneOffset string `yaml:"timezone_offset"`
	// MaxRetries bounds the retries of one request answered 429 or 503.
	MaxRetries int `yaml:"max_retries"`
	// Timeout bounds one HTTP request.
	Timeout time.Duration `yaml:"timeout"`
	// Schema is the topic's schema part: raw.<source>.<schema>.<entity>.
	Schema string `yaml:"schema"`
}

// Defaults fills every unset field with its default, entities included.
func (c *PloomesConfig) Defaults() {
	if c.URL == "" {
		c.URL = "https://api2.ploomes.com"
	}
	if c.UserKeyEnv == "" {
		c.UserKeyEnv = "RIACHO_PLOOMES_USER_KEY"
	}
	if c.PageSize == 0 {
		c.PageSize = 300
	}
	if c.RatePerMinute == 0 {
		c.RatePerMinute = 120
	}
	if c.Interval == 0 {
		c.Interval = time.Minute
	}
	if c.Overlap == 0 {
		c.Overlap = time.Minute
	}
	if c.TimezoneOffset == "" {
		c.TimezoneOffset = "-03:00"
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 6
	}
	if c.Timeout == 0 {
		c.Timeout = time.Minute
	}
	if c.Schema == "" {
		c.Schema = "api"
	}
	for i := range c.Entities {
		e := &c.Entities[i]
		if len(e.Key) == 0 {
			e.Key = []FieldConfig{{Name: "Id", Type: "long"}}
		}
		defaultTypes(e, "long")
		if e.UpdatedAt == "" {
			e.UpdatedAt = "LastUpdateDate"
		}
	}
}

// Validate reports every problem, each naming its YAML field.
func (c PloomesConfig) Validate() error {
	var errs []error
	errs = append(errs, validateURL("url", c.URL))
	if c.UserKeyEnv == "" {
		errs = append(errs, errors.New("user_key_env: required"))
	}
	errs = append(errs, validateCommon(c.Entities, c.PageSize, 300, c.Interval, c.Overlap, c.Timeout, c.Schema, false))
	if c.RatePerMinute < 1 {
		errs = append(errs, fmt.Errorf("rate_per_minute: %d is below 1", c.RatePerMinute))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("max_retries: %d is negative", c.MaxRetries))
	}
	if _, err := ParseOffset(c.TimezoneOffset); err != nil {
		errs = append(errs, fmt.Errorf("timezone_offset: %w", err))
	}
	return errors.Join(errs...)
}

// UserKey reads the user key from the environment variable UserKeyEnv.
func (c PloomesConfig) UserKey() (string, error) {
	k := os.Getenv(c.UserKeyEnv)
	if k == "" {
		return "", fmt.Errorf("user_key_env: environment variable %s is empty", c.UserKeyEnv)
	}
	return k, nil
}

func validateURL(name, s string) error {
	if s == "" {
		return fmt.Errorf("%s: required", name)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an http(s) URL", name, s)
	}
	if u.User != nil {
		return fmt.Errorf("%s: credentials do not belong in the URL", name)
	}
	return nil
}

func validateCommon(ents []EntityConfig, pageSize, maxPage int, interval, overlap, timeout time.Duration, schema string, sapb1 bool) error {
	var errs []error
	if len(ents) == 0 {
		errs = append(errs, errors.New("entities: at least one is required"))
	}
	names := map[string]bool{}
	for i, e := range ents {
		path := fmt.Sprintf("entities[%d]", i)
		errs = append(errs, e.validate(path, sapb1))
		if names[e.Table()] {
			errs = append(errs, fmt.Errorf("%s.name: %q given twice", path, e.Name))
		}
		names[e.Table()] = true
	}
	if pageSize < 1 || (maxPage > 0 && pageSize > maxPage) {
		errs = append(errs, fmt.Errorf("page_size: %d is outside 1..%d", pageSize, max(maxPage, 1_000_000)))
	}
	if interval <= 0 {
		errs = append(errs, fmt.Errorf("interval: %v must be positive", interval))
	}
	if overlap < 0 {
		errs = append(errs, fmt.Errorf("overlap: %v is negative", overlap))
	}
	if timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: %v must be positive", timeout))
	}
	if schema == "" {
		errs = append(errs, errors.New("schema: required"))
	}
	return errors.Join(errs...)
}

// ParseOffset parses a UTC offset "-03:00", "+05:30" or "Z" into a fixed zone.
func ParseOffset(s string) (*time.Location, error) {
	if s == "Z" || s == "+00:00" || s == "-00:00" {
		return time.UTC, nil
	}
	t, err := time.Parse("-07:00", s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a UTC offset like -03:00", s)
	}
	_, off := t.Zone()
	return time.FixedZone(s, off), nil
}

// SQLTable is one table captured by the SQL cursor.
type SQLTable struct {
	// Schema is the table's schema (PostgreSQL) or database (MySQL); empty
	// means the connection's default.
	Schema string `yaml:"schema"`
	// Name is the table's name.
	Name string `yaml:"name"`
	// UpdatedAt is the column holding the row's last change time (a
	// timestamp, datetime or date column).
	UpdatedAt string `yaml:"updated_at"`
	// Key are the columns identifying a row (the primary key).
	Key []string `yaml:"key"`
}

// SQLConfig configures the capture of SQL tables through database/sql.
type SQLConfig struct {
	// Driver is "postgres" or "mysql" (MariaDB too).
	Driver string `yaml:"driver"`
	// DSN is the connection string; prefer DSNEnv when it holds a password.
	DSN string `yaml:"dsn"`
	// DSNEnv names the environment variable holding the connection string.
	DSNEnv string `yaml:"dsn_env"`
	// Tables are the tables to capture.
	Tables []SQLTable `yaml:"tables"`
	// PageSize is the number of rows read per query.
	PageSize int `yaml:"page_size"`
	// Interval is the pause between polls once a table has caught up.
	Interval time.Duration `yaml:"interval"`
	// Overlap is subtracted from the stored cursor at the start of each poll
	// (for updated-at values set at transaction start and committed later).
	Overlap time.Duration `yaml:"overlap"`
	// Schema is the topic's schema part for tables without one; default
	// "public" for postgres and the database name for mysql.
	Schema string `yaml:"topic_schema"`
}

// Defaults fills every unset field with its default.
func (c *SQLConfig) Defaults() {
	if c.PageSize == 0 {
		c.PageSize = 1000
	}
	if c.Interval == 0 {
		c.Interval = 10 * time.Second
	}
}

// Validate reports every problem, each naming its YAML field.
func (c SQLConfig) Validate() error {
	var errs []error
	if c.Driver != "postgres" && c.Driver != "mysql" {
		errs = append(errs, fmt.Errorf("driver: %q is not postgres or mysql", c.Driver))
	}
	if (c.DSN == "") == (c.DSNEnv == "") {
		errs = append(errs, errors.New("dsn, dsn_env: give exactly one"))
	}
	if len(c.Tables) == 0 {
		errs = append(errs, errors.New("tables: at least one is required"))
	}
	names := map[string]bool{}
	for i, t := range c.Tables {
		p := fmt.Sprintf("tables[%d]", i)
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", p))
		}
		if names[t.Schema+"."+t.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %s.%s given twice", p, t.Schema, t.Name))
		}
		names[t.Schema+"."+t.Name] = true
		if t.UpdatedAt == "" {
			errs = append(errs, fmt.Errorf("%s.updated_at: required", p))
		}
		if len(t.Key) == 0 {
			errs = append(errs, fmt.Errorf("%s.key: required", p))
		}
		for j, k := range t.Key {
			if k == "" {
				errs = append(errs, fmt.Errorf("%s.key[%d]: empty", p, j))
			}
			if k == t.UpdatedAt {
				errs = append(errs, fmt.Errorf("%s.key[%d]: %q is the updated_at column", p, j, k))
			}
		}
	}
	if c.PageSize < 1 {
		errs = append(errs, fmt.Errorf("page_size: %d is below 1", c.PageSize))
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("interval: %v must be positive", c.Interval))
	}
	if c.Overlap < 0 {
		errs = append(errs, fmt.Errorf("overlap: %v is negative", c.Overlap))
	}
	return errors.Join(errs...)
}

// ConnString returns DSN, or the value of the environment variable DSNEnv.
func (c SQLConfig) ConnString() (string, error) {
	if c.DSN != "" {
		return c.DSN, nil
	}
	v := os.Getenv(c.DSNEnv)
	if v == "" {
		return "", fmt.Errorf("dsn_env: environment variable %s is empty", c.DSNEnv)
	}
	return v, nil
}

// String hides the DSN, which may hold a password.
func (c SQLConfig) String() string {
	dsn := "<unset>"
	if c.DSN != "" {
		dsn = "<redacted>"
	}
	return fmt.Sprintf("poll.SQLConfig{Driver:%s DSN:%s DSNEnv:%s Tables:%d PageSize:%d Interval:%v Overlap:%v}",
		c.Driver, dsn, c.DSNEnv, len(c.Tables), c.PageSize, c.Interval, c.Overlap)
}
