//! A claim's expression: report fields by path, series over a window, numbers, `+ - * /` and
//! parentheses. Parsed once into a tree; evaluated against whatever supplies the numbers.
//!
//! A path is letters, digits and `_ . -` (node ids have dots and dashes), so subtraction needs
//! spaces around its `-`; `path?` reads a field the report leaves out (a counter at zero) as 0. Path segments are looked up greedily: `nodes.amq.default.routed` finds
//! the node `amq.default`.

/// The numbers an expression reads.
pub trait Numbers {
    /// A report field by its dotted path.
    fn path(&self, path: &str) -> Result<f64, String>;
    /// `agg` of a node's per-second `field` over the seconds ending in (`from_s`, `to_s`].
    fn series(&self, agg: Agg, node: &str, field: &str, from_s: f64, to_s: f64) -> Result<f64, String>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Max,
    Min,
    Mean,
    Sum,
}

impl Agg {
    fn from_name(s: &str) -> Option<Agg> {
        Some(match s {
            "max" => Agg::Max,
            "min" => Agg::Min,
            "mean" => Agg::Mean,
            "sum" => Agg::Sum,
            _ => return None,
        })
    }

    /// Folds `values`; `None` when there are none.
    pub fn of(self, values: impl Iterator<Item = f64>) -> Option<f64> {
        let (mut n, mut acc) = (0usize, None::<f64>);
        for v in values {
            n += 1;
            acc = Some(match (self, acc) {
                (_, None) => v,
                (Agg::Max, Some(a)) => a.max(v),
                (Agg::Min, Some(a)) => a.min(v),
                (Agg::Mean | Agg::Sum, Some(a)) => a + v,
            });
        }
        match self {
            Agg::Mean => acc.map(|a| a / n as f64),
            _ => acc,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    Path(String),
    /// `path?`: the field, or 0 where the report leaves it out (a counter that stayed at zero).
    PathOrZero(String),
    Series {
        agg: Agg,
        node: String,
        field: String,
        from_s: f64,
        to_s: f64,
    },
    Neg(Box<Expr>),
    Bin(Box<Expr>, char, Box<Expr>),
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message} (at character {at} of \"{text}\")")]
pub struct ExprError {
    pub text: String,
    pub at: usize,
    pub message: String,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    i: usize,
}

fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, ExprError> {
        Err(ExprError { text: self.text.to_string(), at: self.i, message: message.into() })
    }

    fn skip(&mut self) {
        while self.i < self.bytes.len() && self.bytes[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip();
        self.bytes.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), ExprError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.err(format!("expected '{}'", c as char))
        }
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            left = Expr::Bin(Box::new(left), op as char, Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.factor()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            left = Expr::Bin(Box::new(left), op as char, Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn number(&mut self) -> Result<f64, ExprError> {
        self.skip();
        let start = self.i;
        while self.i < self.bytes.len()
            && (self.bytes[self.i].is_ascii_digit() || matches!(self.bytes[self.i], b'.' | b'e' | b'E'))
        {
            self.i += 1;
        }
        match self.text[start..self.i].parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => {
                self.i = start;
                self.err("expected a number")
            }
        }
    }

    fn factor(&mut self) -> Result<Expr, ExprError> {
        match self.peek() {
            None => self.err("expected a number, a path or '('"),
            Some(b'(') => {
                self.i += 1;
                let e = self.expr()?;
                self.expect(b')')?;
                Ok(e)
            }
            Some(b'-') => {
                self.i += 1;
                Ok(Expr::Neg(Box::new(self.factor()?)))
            }
            Some(b) if b.is_ascii_digit() => Ok(Expr::Number(self.number()?)),
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                let start = self.i;
                while self.i < self.bytes.len() && is_path_byte(self.bytes[self.i]) {
                    self.i += 1;
                }
                let word = &self.text[start..self.i];
                if self.bytes.get(self.i) == Some(&b'?') {
                    self.i += 1;
                    return Ok(Expr::PathOrZero(word.to_string()));
                }
                if self.peek() != Some(b'(') {
                    return Ok(Expr::Path(word.to_string()));
                }
                let Some(agg) = Agg::from_name(word) else {
                    self.i = start;
                    return self.err(format!("unknown function \"{word}\"; expected max, min, mean or sum"));
                };
                self.i += 1;
                self.skip();
                let arg_at = self.i;
                while self.i < self.bytes.len() && is_path_byte(self.bytes[self.i]) {
                    self.i += 1;
                }
                let arg = &self.text[arg_at..self.i];
                let Some((node, field)) = arg.rsplit_once('.') else {
                    self.i = arg_at;
                    return self.err("expected node.field, a node's per-second series");
                };
                if crate::stats::Point::default().field(field).is_none() {
                    self.i = arg_at;
                    return self.err(format!(
                        "no per-second field \"{field}\"; expected one of {}",
                        crate::stats::Point::FIELDS.join(", ")
                    ));
                }
                self.expect(b',')?;
                let from_s = self.number()?;
                self.expect(b',')?;
                let to_s = self.number()?;
                self.expect(b')')?;
                if to_s <= from_s {
                    return self.err(format!("the window ({from_s}, {to_s}] is empty"));
                }
                Ok(Expr::Series { agg, node: node.to_string(), field: field.to_string(), from_s, to_s })
            }
            Some(c) => self.err(format!("unexpected '{}'", c as char)),
        }
    }
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        let mut p = Parser { text, bytes: text.as_bytes(), i: 0 };
        let e = p.expr()?;
        if p.peek().is_some() {
            return p.err("unexpected text after the expression (a '-' between two paths needs spaces)");
        }
        Ok(e)
    }

    pub fn eval(&self, n: &dyn Numbers) -> Result<f64, String> {
        Ok(match self {
            Expr::Number(x) => *x,
            Expr::Path(p) => n.path(p)?,
            Expr::PathOrZero(p) => match n.path(p) {
                Ok(x) => x,
                Err(e) if e.starts_with("no \"") || e.ends_with("is absent in this run") => 0.0,
                Err(e) => return Err(e),
            },
            Expr::Series { agg, node, field, from_s, to_s } => n.series(*agg, node, field, *from_s, *to_s)?,
            Expr::Neg(e) => -e.eval(n)?,
            Expr::Bin(a, op, b) => {
                let (x, y) = (a.eval(n)?, b.eval(n)?);
                match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    _ if y == 0.0 => return Err("division by zero".to_string()),
                    _ => x / y,
                }
            }
        })
    }

    /// The nodes its series name (to check against a scenario).
    pub fn series_nodes(&self) -> Vec<&str> {
        match self {
            Expr::Series { node, .. } => vec![node],
            Expr::Neg(e) => e.series_nodes(),
            Expr::Bin(a, _, b) => {
                let mut v = a.series_nodes();
                v.extend(b.series_nodes());
                v
            }
            _ => vec![],
        }
    }
}

/// A report field by its dotted path in `v` (the report as JSON): at each object the longest
/// run of segments that is one of its keys; at an array a number; booleans read 1 or 0.
pub fn lookup(v: &serde_json::Value, path: &str) -> Result<f64, String> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = v;
    let mut i = 0;
    while i < segs.len() {
        cur = match cur {
            serde_json::Value::Object(map) => {
                let found = (i + 1..=segs.len()).rev().find_map(|j| map.get(&segs[i..j].join(".")).map(|x| (j, x)));
                match found {
                    Some((j, x)) => {
                        i = j;
                        x
                    }
                    None => {
                        let known: Vec<&str> = map.keys().map(String::as_str).take(12).collect();
                        return Err(format!(
                            "no \"{}\" in {}: there is {}",
                            segs[i],
                            segs[..i].join("."),
                            known.join(", ")
                        ));
                    }
                }
            }
            serde_json::Value::Array(items) => {
                let k: usize = segs[i]
                    .parse()
                    .map_err(|_| format!("\"{}\" is not an index of {}", segs[i], segs[..i].join(".")))?;
                i += 1;
                items
                    .get(k)
                    .ok_or_else(|| format!("{} has {} items, not {}", segs[..i - 1].join("."), items.len(), k + 1))?
            }
            _ => return Err(format!("{} is a value, not a group", segs[..i].join("."))),
        };
    }
    match cur {
        serde_json::Value::Number(n) => n.as_f64().ok_or_else(|| format!("{path} is not a number")),
        serde_json::Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        serde_json::Value::Null => Err(format!("{path} is absent in this run")),
        _ => Err(format!("{path} is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Fixed(serde_json::Value);

    impl Numbers for Fixed {
        fn path(&self, path: &str) -> Result<f64, String> {
            lookup(&self.0, path)
        }
        fn series(&self, agg: Agg, node: &str, field: &str, from: f64, to: f64) -> Result<f64, String> {
            let xs = [1.0, 5.0, 3.0];
            agg.of(xs.into_iter()).ok_or_else(|| format!("{node}.{field} has nothing in ({from}, {to}]"))
        }
    }

    #[test]
    fn parses_paths_with_dots_and_dashes_and_evaluates() {
        let n = Fixed(
            json!({"nodes": {"amq.default": {"routed": 10}, "dead-letters": {"depth": 4}}, "faults": [{"affected": 7}], "ok": true}),
        );
        let eval = |t: &str| Expr::parse(t).unwrap().eval(&n);
        assert_eq!(eval("nodes.amq.default.routed"), Ok(10.0));
        assert_eq!(eval("nodes.dead-letters.depth - 1"), Ok(3.0));
        assert_eq!(eval("(nodes.amq.default.routed + 2) / faults.0.affected * 7"), Ok(12.0));
        assert_eq!(eval("-ok + 2"), Ok(1.0));
        assert_eq!(eval("max(q.level_end, 0, 10) + mean(q.level, 0, 10)"), Ok(8.0));
        assert!(eval("nodes.nope.depth").unwrap_err().contains("no \"nope\" in nodes"));
        assert_eq!(eval("1 / 0"), Err("division by zero".to_string()));
        // `?` reads a field the report leaves out (a counter at zero) as 0.
        assert_eq!(eval("nodes.dead-letters.repeated? + 1"), Ok(1.0));
        assert_eq!(eval("nodes.dead-letters.depth?"), Ok(4.0));
    }

    #[test]
    fn bad_expressions_say_where() {
        let e = Expr::parse("nodes.q.depth_max >").unwrap_err();
        assert!(e.message.contains("unexpected text"), "{e}");
        let e = Expr::parse("median(q.level, 0, 10)").unwrap_err();
        assert!(e.message.contains("unknown function \"median\""), "{e}");
        let e = Expr::parse("max(q.lvl, 0, 10)").unwrap_err();
        assert!(e.message.contains("no per-second field \"lvl\""), "{e}");
        let e = Expr::parse("max(q.level, 10, 0)").unwrap_err();
        assert!(e.message.contains("is empty"), "{e}");
        assert_eq!(Expr::parse("max(a.b.level, 0, 1)").unwrap().series_nodes(), ["a.b"]);
    }
}
