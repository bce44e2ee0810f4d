package lineage

import "time"

// Schema URLs of the event and of the facets riacho writes.
const (
	// RunEventSchemaURL is the OpenLineage core spec version of RunEvent.
	RunEventSchemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
	// ErrorMessageFacetURL is the schema of the errorMessage run facet.
	ErrorMessageFacetURL = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	// ProcessingEngineFacetURL is the schema of the processing_engine run facet.
	ProcessingEngineFacetURL = "https://openlineage.io/spec/facets/1-1-0/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet"
	// JobTypeFacetURL is the schema of the jobType job facet.
	JobTypeFacetURL = "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	// SchemaFacetURL is the schema of the schema dataset facet.
	SchemaFacetURL = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	// OutputStatisticsFacetURL is the schema of the outputStatistics output dataset facet.
	OutputStatisticsFacetURL = "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"
)

// DefaultProducer is the producer URI of riacho's events.
const DefaultProducer = "https://github.com/riacho/riacho"

// EventType is a run's state transition.
type EventType string

// The event types of the run cycle.
const (
	Start    EventType = "START"
	Running  EventType = "RUNNING"
	Complete EventType = "COMPLETE"
	Abort    EventType = "ABORT"
	Fail     EventType = "FAIL"
	Other    EventType = "OTHER"
)

// RunEvent is an OpenLineage run event.
type RunEvent struct {
	EventType EventType       `json:"eventType"`
	EventTime time.Time       `json:"eventTime"`
	Producer  string          `json:"producer"`
	SchemaURL string          `json:"schemaURL"`
	Run       RunInfo         `json:"run"`
	Job       Job             `json:"job"`
	Inputs    []InputDataset  `json:"inputs"`
	Outputs   []OutputDataset `json:"outputs"`
}

// RunInfo identifies one run of a job in an event.
type RunInfo struct {
	// RunID is a UUID (version 7 here: time-ordered).
	RunID  string     `json:"runId"`
	Facets *RunFacets `json:"facets,omitempty"`
}

// RunFacets are the run facets riacho writes.
type RunFacets struct {
	ProcessingEngine *ProcessingEngineFacet `json:"processing_engine,omitempty"`
	ErrorMessage     *ErrorMessageFacet     `json:"errorMessage,omitempty"`
}

// Job names the job a run belongs to.
type Job struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	Facets    *JobFacets `json:"facets,omitempty"`
}

// JobFacets are the job facets riacho writes.
type JobFacets struct {
	JobType *JobTypeFacet `json:"jobType,omitempty"`
}

// Dataset names a dataset; see the naming helpers (KafkaTopic, LakeTable,
// WarehouseTable).
type Dataset struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    *DatasetFacets `json:"facets,omitempty"`
}

// DatasetFacets are the dataset facets riacho writes.
type DatasetFacets struct {
	Schema *SchemaFacet `json:"schema,omitempty"`
}

// InputDataset is a dataset a run read.
type InputDataset struct {
	Dataset
}

// OutputDataset is a dataset a run wrote, with what the run added to it.
type OutputDataset struct {
	Dataset
	OutputFacets *OutputFacets `json:"outputFacets,omitempty"`
}

// OutputFacets are the output dataset facets riacho writes.
type OutputFacets struct {
	OutputStatistics *OutputStatisticsFacet `json:"outputStatistics,omitempty"`
}

// BaseFacet carries the fields every facet has.
type BaseFacet struct {
	Producer  string `json:"_producer"`
	SchemaURL string `json:"_schemaURL"`
}

// ErrorMessageFacet tells why a run failed.
type ErrorMessageFacet struct {
	BaseFacet
	Message             string `json:"message"`
	ProgrammingLanguage string `json:"programmingLanguage"`
	StackTrace          string `json:"stackTrace,omitempty"`
}

// ProcessingEngineFacet names the service and version that ran the job.
type ProcessingEngineFacet struct {
	BaseFacet
	Version                   string `json:"version"`
	Name                      string `json:"name,omitempty"`
	OpenlineageAdapterVersion string `json:"openlineageAdapterVersion,omitempty"`
}

// JobTypeFacet says what kind of job this is.
type JobTypeFacet struct {
	BaseFacet
	ProcessingType string `json:"processingType"`
	Integration    string `json:"integration"`
	JobType        string `json:"jobType,omitempty"`
}

// SchemaFacet lists a dataset's fields.
type SchemaFacet struct {
	BaseFacet
	Fields []SchemaField `json:"fields"`
}

// SchemaField is one field of a SchemaFacet.
type SchemaField struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

// OutputStatisticsFacet is what a run wrote to an output dataset.
type OutputStatisticsFacet struct {
	BaseFacet
	RowCount  int64 `json:"rowCount"`
	Size      int64 `json:"size,omitempty"`
	FileCount int64 `json:"fileCount,omitempty"`
}

// Stats are the rows, bytes and files a run wrote to one output.
type Stats struct {
	Rows, Bytes, Files int64
}

// Add returns s plus o.
func (s Stats) Add(o Stats) Stats {
	return Stats{Rows: s.Rows + o.Rows, Bytes: s.Bytes + o.Bytes, Files: s.Files + o.Files}
}
