-- First start of the compose stack's PostgreSQL (docker-entrypoint-initdb.d).
-- Database riacho: the CDC demo source. Database warehouse: the metrics
-- service's warehouse. Database iceberg: the sink's Iceberg SQL catalog.
CREATE DATABASE warehouse;
CREATE DATABASE iceberg;

\connect riacho

-- The demo ERP table devstack captures too (services/devstack/internal/demo/pg.go).
CREATE SCHEMA IF NOT EXISTS demo;
CREATE TABLE IF NOT EXISTS demo.faturas (
	doc_entry   bigserial PRIMARY KEY,
	doc_num     integer NOT NULL,
	card_code   text NOT NULL,
	card_name   text NOT NULL,
	doc_date    date NOT NULL,
	doc_total   numeric(14,2) NOT NULL,
	doc_status  text NOT NULL DEFAULT 'O',
	updated_at  timestamptz NOT NULL DEFAULT now()
);
