package webhook

import (
	"sync"
	"time"
	_ "time/tzdata" // America/Sao_Paulo must resolve in minimal containers too
)

// saoPaulo returns the America/Sao_Paulo location (UTC-3 without DST since 2019), falling back
// to a fixed UTC-3 zone if the embedded database could not load it.
var saoPaulo = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		return time.FixedZone("-03", -3*60*60)
	}
	return loc
})
