package expect_test

import (
	"testing"
	"time"
)

func TestTypeExpectations(t *testing.T) {
	mixed := column("v", int64(1), "1", 1.5, true, rat("1.50"), day(2024, 1, 2),
		time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), []byte("x"), nil)
	runMapCases(t, []mapCase{
		{name: "int", typ: "expect_column_values_to_be_of_type", kwargs: kw{"column": "v", "type_": "int"},
			batch: mixed, success: false, unexpected: 7, missing: 1},
		{name: "duckdb BIGINT", typ: "expect_column_values_to_be_of_type", kwargs: kw{"column": "v", "type_": "BIGINT"},
			batch: column("v", int64(1), 2.0), success: false, unexpected: 1},
		{name: "str", typ: "expect_column_values_to_be_of_type", kwargs: kw{"column": "v", "type_": "str"},
			batch: mixed, success: false, unexpected: 7, missing: 1},
		{name: "decimal with precision", typ: "expect_column_values_to_be_of_type", kwargs: kw{"column": "v", "type_": "DECIMAL(18,2)"},
			batch: mixed, success: false, unexpected: 7, missing: 1},
		{name: "datetime accepts dates", typ: "expect_column_values_to_be_of_type", kwargs: kw{"column": "v", "type_": "datetime"},
			batch: mixed, success: false, unexpected: 6, missing: 1},
		{name: "date needs midnight", typ: "expect_column_values_to_be_of_type", kwargs: kw{"column": "v", "type_": "date"},
			batch: mixed, success: false, unexpected: 7, missing: 1},
		{name: "avro timestamp-millis", typ: "expect_column_values_to_be_of_type", kwargs: kw{"column": "v", "type_": "timestamp-millis"},
			batch: column("v", day(2024, 1, 1)), success: true},
		{name: "type list", typ: "expect_column_values_to_be_in_type_list", kwargs: kw{"column": "v", "type_list": []any{"string", "float64", "bool"}},
			batch: mixed, success: false, unexpected: 5, missing: 1},
		{name: "bytes", typ: "expect_column_values_to_be_of_type", kwargs: kw{"column": "v", "type_": "BLOB"},
			batch: mixed, success: false, unexpected: 7, missing: 1},
	})
}

func TestStrftime(t *testing.T) {
	runMapCases(t, []mapCase{
		{name: "iso date", typ: "expect_column_values_to_match_strftime_format", kwargs: kw{"column": "d", "strftime_format": "%Y-%m-%d"},
			batch:   column("d", "2024-01-15", "2024-1-5", "2024-02-30", "2024-02-29", "15/01/2024", "2024-01-15x", int64(20240115), nil),
			success: false, unexpected: 4, missing: 1, partial: []any{"2024-02-30", "15/01/2024", "2024-01-15x", int64(20240115)}},
		{name: "brazilian date and time", typ: "expect_column_values_to_match_strftime_format",
			kwargs: kw{"column": "d", "strftime_format": "%d/%m/%Y %H:%M"},
			batch:  column("d", "15/01/2024 09:30", "31/04/2024 09:30", "15/01/2024 24:00", "15/01/2024  09:30"), success: false, unexpected: 2},
		{name: "month names case-insensitive", typ: "expect_column_values_to_match_strftime_format",
			kwargs: kw{"column": "d", "strftime_format": "%d %b %Y"}, batch: column("d", "05 jan 2024", "05 JAN 2024", "05 foo 2024"),
			success: false, unexpected: 1},
		{name: "timezone offset", typ: "expect_column_values_to_match_strftime_format",
			kwargs: kw{"column": "d", "strftime_format": "%Y-%m-%dT%H:%M:%S%z"},
			batch:  column("d", "2024-01-15T10:00:00-0300", "2024-01-15T10:00:00-03:00", "2024-01-15T10:00:00"), success: false, unexpected: 1},
	})
}

func TestParseableExpectations(t *testing.T) {
	runMapCases(t, []mapCase{
		{name: "dateutil", typ: "expect_column_values_to_be_dateutil_parseable", kwargs: kw{"column": "d"},
			batch: column("d", "2024-01-15", "Jan 15 2024", "January 15, 2024 10:30 AM", "15/01/2024", "2024-01-15T10:30:00.123-03:00",
				"10:30", "20240115", "Mon, 15 Jan 2024 10:30:00 GMT", "5 PM",
				"hello", "", "2024-13-45", "31/02/2024", "25:00", int64(5), nil),
			success: false, unexpected: 6, missing: 1, partial: []any{"hello", "", "2024-13-45", "31/02/2024", "25:00", int64(5)}},
		{name: "json", typ: "expect_column_values_to_be_json_parseable", kwargs: kw{"column": "j"},
			batch: column("j", `{"a":1}`, "[1,2]", "3", `"x"`, "{bad", []byte(`{"b":2}`), int64(3)), success: false, unexpected: 2},
	})
}

func TestBrazilianExpectations(t *testing.T) {
	runMapCases(t, []mapCase{
		{name: "cpf", typ: "expect_column_values_to_be_valid_cpf", kwargs: kw{"column": "cpf"},
			batch:   column("cpf", "529.982.247-25", "52998224725", "529.982.247-24", "111.111.111-11", "123", int64(52998224725), nil),
			success: false, unexpected: 4, missing: 1},
		{name: "cnpj numeric and alphanumeric", typ: "expect_column_values_to_be_valid_cnpj", kwargs: kw{"column": "cnpj"},
			batch:   column("cnpj", "11.222.333/0001-81", "11222333000181", "12.ABC.345/01DE-35", "12ABC34501DE35", "11.222.333/0001-82", "12.ABC.345/01DE-36"),
			success: false, unexpected: 2, partial: []any{"11.222.333/0001-82", "12.ABC.345/01DE-36"}},
		{name: "phone", typ: "expect_column_values_to_be_valid_br_phone", kwargs: kw{"column": "tel"},
			batch:   column("tel", "+5511987654321", "+551133334444", "+5510987654321", "+5511887654321", "+1 555 0100"),
			success: false, unexpected: 3},
		{name: "cep", typ: "expect_column_values_to_be_valid_cep", kwargs: kw{"column": "cep"},
			batch: column("cep", "01310-100", "01310100", "1310-100", "abcde-fgh"), success: false, unexpected: 2},
	})
}
