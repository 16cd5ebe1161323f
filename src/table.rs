//! Left-aligned columns like Go's tabwriter with padding 3, as notation prints lists.

/// Renders rows into lines; trailing spaces are trimmed.
pub fn render<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let widths: Vec<usize> = (0..N)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                line.push_str(cell);
                let pad = widths[c] - cell.chars().count() + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
            line.trim_end().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns() {
        let rows = [
            ["NAME".to_string(), "X".to_string()],
            ["* a".to_string(), "long".to_string()],
        ];
        assert_eq!(super::render(&rows), vec!["NAME   X", "* a    long"]);
    }
}
