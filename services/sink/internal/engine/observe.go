package engine

// CommitOutcome is how a table commit ended: what it added, or why the
// range was dropped (Err wraps table.ErrAlreadyCommitted, table.ErrGap or
// table.ErrSchemaMismatch when the table refused it, context.Canceled at
// shutdown).
type CommitOutcome struct {
	Records, Bytes, Files int64
	Err                   error
}

// beginCommit tells Deps.OnCommitBegin that p's range is being committed.
func (p *partition) beginCommit() {
	if fn := p.e.deps.OnCommitBegin; fn != nil {
		p.commitDone = fn(p.topic, p.target.Table())
	}
}

// endCommit reports the outcome of the commit begun last, once.
func (p *partition) endCommit(o CommitOutcome) {
	if done := p.commitDone; done != nil {
		p.commitDone = nil
		done(o)
	}
}
