package project

// Options change how a project loads.
type Options struct {
	// Vars override the project's vars for var().
	Vars map[string]any
	// Target is target.name; "" means "dev".
	Target string
	// Env looks up env_var(); nil means os.LookupEnv.
	Env func(string) (string, bool)
}

// Project is a loaded dbt-style project.
type Project struct {
	// Dir is the directory the project was loaded from, as given.
	Dir string
	// Name is dbt_project.yml's name, or the directory's base name.
	Name string
	// Models by name, disabled ones included (Config.Enabled false).
	Models map[string]*Model
	// Sources by "source.table".
	Sources map[string]*Source
	// Order lists the enabled, non-ephemeral models, inputs first.
	Order []*Model
}

// Source is one table of a sources: entry of a schema file.
type Source struct {
	Name, Table string
	// Topic is "raw.<name>.<table>" unless meta.riacho.topic says otherwise.
	Topic string
	// Alias, from meta.riacho.alias, lets ref('<alias>') name this source.
	Alias string
	// Unwrap is auto (default), debezium or none (meta.riacho.unwrap).
	Unwrap string
	// File and Line are where the table is declared.
	File string
	Line int

	aliasLine int
}

// Key is "source.table", the key of Project.Sources.
func (s *Source) Key() string { return s.Name + "." + s.Table }

// RelationKind says what a Relation reads.
type RelationKind int

// Relation kinds.
const (
	RelSource RelationKind = iota // a source table's topic
	RelModel                      // another model's output topic
)

// String names the kind.
func (k RelationKind) String() string {
	if k == RelSource {
		return "source"
	}
	return "model"
}

// Relation is one input of a model.
type Relation struct {
	Kind RelationKind
	// Name is "source.table" or the model's name.
	Name string
	// Topic is the source's topic or the model's OutputTopic.
	Topic string
	// Table is the identifier the compiled SQL uses, unquoted:
	// "src__<source>__<table>" or "ref__<model>".
	Table string
	// Unwrap is the source's unwrap mode; "" for models.
	Unwrap string
}

// Model is one .sql file of the project.
type Model struct {
	// Name is the file's base name without .sql.
	Name string
	// Path is the file's path relative to Project.Dir, with slashes.
	Path string
	// RawSQL is the file's content.
	RawSQL string
	// SQL is the compiled query: refs and sources as quoted tables,
	// ephemeral models inlined as __dbt__cte__<name> CTEs.
	SQL string
	// Inputs are the relations the query reads, in order of first use,
	// without duplicates; an ephemeral model's inputs count as its user's.
	Inputs []Relation
	// DependsOn names the models the file refs directly (ephemeral ones too).
	DependsOn []string
	// Config is the model's resolved configuration.
	Config Config
	// OutputTopic is "staging.<name>" unless riacho.topic is set.
	OutputTopic string
	// File is the absolute path of the .sql file.
	File string
}
