//! Output formats and a small aligned-text table printer for listings.

use std::io::Write;

use anyhow::Result;
use clap::ValueEnum;
use serde::Serialize;

/// Formats of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns for people.
    Table,
    /// A JSON document for scripts.
    Json,
}

/// Formats of `lakeflow read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadFormat {
    /// A boxed table of typed values.
    Table,
    /// One JSON array of rows.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Cells of columns other than the last are cut to this many characters, so that one long
/// value (a name, an error) cannot push every other column off the screen.
const MAX_CELL_CHARS: usize = 96;

/// Prints rows as aligned columns under a header.
pub fn print_text_table(header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    write_text_table(&mut std::io::stdout().lock(), header, rows)?;
    Ok(())
}

/// Writes rows as aligned columns under a header. Cells are padded by hand: a `format!` width
/// above 65,535 panics, and a cell may be any length.
fn write_text_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let last = header.len().saturating_sub(1);
    let shown = |column: usize, cell: &str| -> String {
        if column < last {
            shortened(cell, MAX_CELL_CHARS)
        } else {
            cell.to_owned()
        }
    };
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| shown(i, h))
        .collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().enumerate().map(|(i, c)| shown(i, c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut text = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            text.extend(std::iter::repeat_n(
                ' ',
                width.saturating_sub(cell.chars().count()),
            ));
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
}

/// `text` cut to at most `max` characters (at a character boundary), ending with `…` when cut.
pub fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((end, _)) if text.chars().count() > max => format!("{}…", &text[..end]),
        _ => text.to_owned(),
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(header: &[&str], rows: &[Vec<String>]) -> String {
        let mut out = Vec::new();
        write_text_table(&mut out, header, rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn aligns_columns() {
        let text = table(
            &["A", "BB", "C"],
            &[vec!["xyz".into(), "é".into(), "end".into()]],
        );
        assert_eq!(text, "A    BB  C\nxyz  é   end\n");
    }

    #[test]
    fn very_long_and_multibyte_cells_do_not_panic_and_are_cut_at_char_boundaries() {
        let long = "x".repeat(70_000);
        let wide = "é".repeat(70_000);
        let text = table(
            &["TABLE", "STATUS"],
            &[vec![long.clone(), "ok".into()], vec![wide, long.clone()]],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].starts_with(&"x".repeat(MAX_CELL_CHARS - 1)),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("x…  ok"), "{}", lines[1]);
        assert!(
            lines[2].starts_with(&"é".repeat(MAX_CELL_CHARS - 1)),
            "{}",
            lines[2]
        );
        // The last column is not padded, so it is printed in full.
        assert!(lines[2].ends_with(&long));
        assert_eq!(shortened("abc", 3), "abc");
        assert_eq!(shortened("abcd", 3), "ab…");
        assert_eq!(shortened("ééé", 2), "é…");
        assert_eq!(shortened("", 0), "");
    }
}
