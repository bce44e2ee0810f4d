package app

import (
	"fmt"

	"github.com/riacho/riacho/services/cdc/internal/poll"
	"github.com/riacho/riacho/services/cdc/internal/poll/ploomes"
	"github.com/riacho/riacho/services/cdc/internal/poll/sapb1"
	"github.com/riacho/riacho/services/cdc/internal/poll/sqlcursor"
	"github.com/riacho/riacho/services/cdc/internal/state"
)

// newPoller builds a cursor-based capture: SAP B1 Service Layer, Ploomes or a SQL table.
func (s *Service) newPoller(src *Source, st *state.Store) (capture, error) {
	log := s.log.With("source", src.Name)
	var (
		f    poll.Fetcher
		opts poll.Options
		err  error
	)
	switch {
	case src.SAPB1 != nil:
		f, err = sapb1.New(*src.SAPB1, sapb1.Options{Logger: log, Password: s.getenv(src.SAPB1.PasswordEnv)})
		opts = src.SAPB1.Options()
	case src.Ploomes != nil:
		f, err = ploomes.New(*src.Ploomes, ploomes.Options{Logger: log, UserKey: s.getenv(src.Ploomes.UserKeyEnv)})
		opts = src.Ploomes.Options()
	default:
		cfg := *src.SQL
		if cfg.DSN == "" && cfg.DSNEnv != "" {
			cfg.DSN, cfg.DSNEnv = s.getenv(cfg.DSNEnv), ""
			if cfg.DSN == "" {
				return nil, fmt.Errorf("sql: dsn_env %s is not set", src.SQL.DSNEnv)
			}
		}
		f, err = sqlcursor.Open(cfg)
		opts = cfg.Options()
	}
	if err != nil {
		return nil, err
	}
	opts.Registerer, opts.Logger = s.deps.Registry, log
	return poll.New(src.Name, f, s.emitter, st, opts)
}
