package chaos

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/duckdb/duckdb-go/v2" // database/sql driver "duckdb"
)

// warehouseIDs counts the rows per subscription_id of the metrics
// warehouse's fct_subscriptions (the DuckDB file; the metrics process must
// be stopped, DuckDB lets one process open it).
func warehouseIDs(ctx context.Context, path string) (map[string]int, error) {
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT subscription_id FROM fct_subscriptions")
	if err != nil {
		return nil, fmt.Errorf("read warehouse %s: %w", path, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read warehouse %s: %w", path, err)
		}
		if !id.Valid {
			return nil, fmt.Errorf("warehouse %s: fct_subscriptions has a row with a null subscription_id", path)
		}
		out[id.String]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read warehouse %s: %w", path, err)
	}
	return out, nil
}
