package webhook

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Limits on what an uploaded XLSX may unzip to; larger worksheets spill to temporary files
// that Close removes.
const (
	xlsxUnzipLimit     = 512 << 20
	xlsxXMLMemoryLimit = 16 << 20
)

// readXLSX feeds a worksheet's rows to t: the displayed (formatted) values, with built-in
// date formats shown in the locale's short date pattern, plus the raw values when a declared
// column is not a string (numbers without formatting, dates as Excel serials). Row numbers
// are the sheet's.
func readXLSX(data []byte, sheet string, t *table) (err error) {
	defer func() {
		if r := recover(); r != nil { // a corrupt file must not take the intake down
			err = fmt.Errorf("corrupt XLSX file: %v: %w", r, ErrBadUpload)
		}
	}()
	shortDate := "mm/dd/yyyy"
	if t.cfg.ptBR {
		shortDate = "dd/mm/yyyy" // built-in date formats show as the locale's Excel shows them
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: xlsxUnzipLimit, UnzipXMLSizeLimit: xlsxXMLMemoryLimit,
		ShortDatePattern: shortDate, LongTimePattern: "hh:mm:ss",
	})
	if err != nil {
		return fmt.Errorf("%w: open XLSX: %w", ErrBadUpload, err)
	}
	defer func() { _ = f.Close() }()
	if sheet == "" {
		list := f.GetSheetList()
		if len(list) == 0 {
			return fmt.Errorf("XLSX file has no sheets: %w", ErrBadUpload)
		}
		sheet = list[0]
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return fmt.Errorf("%w: XLSX sheet %q: %w", ErrBadUpload, sheet, err)
	}
	defer func() { _ = rows.Close() }()
	var rawRows *excelize.Rows
	if t.cfg.needsTyped() {
		if rawRows, err = f.Rows(sheet); err != nil {
			return fmt.Errorf("%w: XLSX sheet %q: %w", ErrBadUpload, sheet, err)
		}
		defer func() { _ = rawRows.Close() }()
	}
	t.padShort = true
	t.cfg.xlsxRaw = true
	for num := 1; rows.Next(); num++ {
		cells, err := rows.Columns()
		if err != nil {
			return fmt.Errorf("%w: XLSX row %d: %w", ErrBadUpload, num, err)
		}
		var typed []string
		if rawRows != nil {
			if !rawRows.Next() {
				return fmt.Errorf("XLSX row %d: raw values ended early: %w", num, ErrBadUpload)
			}
			if typed, err = rawRows.Columns(excelize.Options{RawCellValue: true}); err != nil {
				return fmt.Errorf("%w: XLSX row %d: %w", ErrBadUpload, num, err)
			}
			if typed == nil {
				typed = []string{}
			}
		}
		if err := t.row(num, cells, typed, strings.Join(cells, "\t"), ""); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		return fmt.Errorf("%w: XLSX rows: %w", ErrBadUpload, err)
	}
	return nil
}
