//! A report as structure — headings, paragraphs, lists, tables — built once from the results
//! and rendered by each exporter (Markdown, HTML) on its own.

/// One block of a report.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Title(String),
    Heading(String),
    Para(String),
    List(Vec<String>),
    Table(Table),
}

/// A table: a header row and rows of cells; `numeric[i]` right-aligns column i.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub head: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

/// A whole report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Doc(pub Vec<Block>);

impl Doc {
    pub fn push(&mut self, b: Block) {
        self.0.push(b);
    }
}

/// Markdown: pipe tables, `-` lists, `#` headings.
pub fn markdown(doc: &Doc) -> String {
    let mut s = String::new();
    for b in &doc.0 {
        match b {
            Block::Title(t) => s.push_str(&format!("# {t}\n\n")),
            Block::Heading(t) => s.push_str(&format!("## {t}\n\n")),
            Block::Para(t) => s.push_str(&format!("{t}\n\n")),
            Block::List(items) => {
                for i in items {
                    s.push_str(&format!("- {i}\n"));
                }
                s.push('\n');
            }
            Block::Table(t) => {
                let cell = |c: &str| c.replace('|', "\\|");
                s.push_str(&format!(
                    "| {} |\n",
                    t.head
                        .iter()
                        .map(|c| cell(c))
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
                let rule: Vec<&str> = (0..t.head.len())
                    .map(|i| {
                        if t.numeric.get(i).copied().unwrap_or(false) {
                            "---:"
                        } else {
                            "---"
                        }
                    })
                    .collect();
                s.push_str(&format!("|{}|\n", rule.join("|")));
                for r in &t.rows {
                    s.push_str(&format!(
                        "| {} |\n",
                        r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                    ));
                }
                s.push('\n');
            }
        }
    }
    s
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escaped text with each pair of backticks made a `<code>` span, as Markdown shows it.
fn inline(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in esc(s).split('`').enumerate() {
        // Odd parts lie between a pair of backticks; a lone last one stays as it was.
        let closed = i % 2 == 1 && s.matches('`').count() > i;
        match (i % 2, closed) {
            (1, true) => out.push_str(&format!("<code>{part}</code>")),
            (1, false) => {
                out.push('`');
                out.push_str(part);
            }
            _ => out.push_str(part),
        }
    }
    out
}

/// HTML fragments: `<h1>`, `<h2>`, `<p>`, `<ul>`, `<table>`.
pub fn html(doc: &Doc) -> String {
    let mut s = String::new();
    for b in &doc.0 {
        match b {
            Block::Title(t) => s.push_str(&format!("<h1>{}</h1>\n", esc(t))),
            Block::Heading(t) => s.push_str(&format!("<h2>{}</h2>\n", esc(t))),
            Block::Para(t) => s.push_str(&format!("<p>{}</p>\n", inline(t))),
            Block::List(items) => {
                s.push_str("<ul>\n");
                for i in items {
                    s.push_str(&format!("<li>{}</li>\n", inline(i)));
                }
                s.push_str("</ul>\n");
            }
            Block::Table(t) => {
                s.push_str("<table>\n<tr>");
                for h in &t.head {
                    s.push_str(&format!("<th>{}</th>", esc(h)));
                }
                s.push_str("</tr>\n");
                for r in &t.rows {
                    s.push_str("<tr>");
                    for (i, c) in r.iter().enumerate() {
                        let class = if t.numeric.get(i).copied().unwrap_or(false) {
                            " class=\"n\""
                        } else {
                            ""
                        };
                        s.push_str(&format!("<td{class}>{}</td>", esc(c)));
                    }
                    s.push_str("</tr>\n");
                }
                s.push_str("</table>\n");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_code_spans_and_a_lone_one_stays() {
        assert_eq!(
            inline("add `--work 1,10` <now>"),
            "add <code>--work 1,10</code> &lt;now&gt;"
        );
        assert_eq!(inline("a ` b"), "a ` b");
    }

    #[test]
    fn both_renderings_carry_every_block() {
        let doc = Doc(vec![
            Block::Title("T".into()),
            Block::Para("x < y".into()),
            Block::List(vec!["a".into()]),
            Block::Table(Table {
                head: vec!["k".into(), "v".into()],
                numeric: vec![false, true],
                rows: vec![vec!["a|b".into(), "1".into()]],
            }),
        ]);
        let md = markdown(&doc);
        assert!(md.contains("# T\n") && md.contains("|---|---:|") && md.contains("a\\|b"));
        let h = html(&doc);
        assert!(h.contains("<h1>T</h1>") && h.contains("<p>x &lt; y</p>"));
        assert!(h.contains("<td class=\"n\">1</td>"));
    }
}
