//! The small Markdown subset of a walkthrough's text: paragraphs (a blank line between), lists
//! (lines starting with `- `), `*emphasis*` and `` `code` ``. Anything else is plain text.

use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub enum Inline {
    Text(String),
    Em(String),
    Code(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Para(Vec<Inline>),
    List(Vec<Vec<Inline>>),
}

/// The blocks of `text`.
pub fn blocks(text: &str) -> Vec<Block> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<&str> = p.lines().map(str::trim).collect();
            if lines.iter().all(|l| l.starts_with("- ")) {
                Block::List(lines.iter().map(|l| inlines(&l[2..])).collect())
            } else {
                Block::Para(inlines(&lines.join(" ")))
            }
        })
        .collect()
}

/// The runs of `text`: a marker without its closing twin is plain text.
pub fn inlines(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let marker = matches!(c, '*' | '`');
        let close = if marker { rest[1..].find(c) } else { None };
        match close {
            Some(end) if end > 0 => {
                if !plain.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut plain)));
                }
                let inner = rest[1..1 + end].to_string();
                out.push(if c == '*' { Inline::Em(inner) } else { Inline::Code(inner) });
                rest = &rest[2 + end..];
            }
            _ => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
    out
}

fn inline_view(runs: Vec<Inline>) -> impl IntoView {
    runs.into_iter()
        .map(|r| match r {
            Inline::Text(t) => view! { <span>{t}</span> }.into_any(),
            Inline::Em(t) => view! { <em>{t}</em> }.into_any(),
            Inline::Code(t) => view! { <code>{t}</code> }.into_any(),
        })
        .collect_view()
}

/// `text` as elements.
pub fn render(text: &str) -> impl IntoView + use<> {
    blocks(text)
        .into_iter()
        .map(|b| match b {
            Block::Para(runs) => view! { <p>{inline_view(runs)}</p> }.into_any(),
            Block::List(items) => {
                view! { <ul>{items.into_iter().map(|i| view! { <li>{inline_view(i)}</li> }).collect_view()}</ul> }
                    .into_any()
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_emphasis_and_code() {
        let b = blocks("Watch `shipping_queue`: it *fills*.\n\n- one\n- two *2*\n\nA lone * star");
        assert_eq!(
            b,
            vec![
                Block::Para(vec![
                    Inline::Text("Watch ".into()),
                    Inline::Code("shipping_queue".into()),
                    Inline::Text(": it ".into()),
                    Inline::Em("fills".into()),
                    Inline::Text(".".into())
                ]),
                Block::List(vec![
                    vec![Inline::Text("one".into())],
                    vec![Inline::Text("two ".into()), Inline::Em("2".into())]
                ]),
                Block::Para(vec![Inline::Text("A lone * star".into())]),
            ]
        );
    }
}
