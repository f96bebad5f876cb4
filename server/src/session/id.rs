//! Session ids: 128 random bits from the operating system, compared in constant time, so that
//! a student on the same LAN can neither guess another's session nor learn it byte by byte from
//! how long a comparison takes.

use std::fmt;
use std::hash::{Hash, Hasher};

/// A session's id: 32 lowercase hex digits on the wire.
#[derive(Clone, Copy)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// A fresh id from the operating system's random number generator.
    pub fn random() -> Result<SessionId, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(SessionId(bytes))
    }

    /// Reads an id a client sent; `None` unless it is 32 hex digits.
    pub fn parse(text: &str) -> Option<SessionId> {
        let text = text.as_bytes();
        if text.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, pair) in text.chunks_exact(2).enumerate() {
            let hex = |c: u8| (c as char).to_digit(16);
            bytes[i] = (hex(pair[0])? * 16 + hex(pair[1])?) as u8;
        }
        Some(SessionId(bytes))
    }
}

/// Every byte is compared whatever the others hold: the time taken says nothing of how much of
/// an id was right.
impl PartialEq for SessionId {
    fn eq(&self, other: &SessionId) -> bool {
        let diff = self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for SessionId {}

impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(&self.0);
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_thousand_ids_all_distinct_and_not_a_function_of_time() {
        let ids: Vec<SessionId> = (0..1000).map(|_| SessionId::random().unwrap()).collect();
        let distinct: HashSet<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(distinct.len(), 1000);
        // Ids made at (nearly) the same instant share no structure: consecutive ids differ in
        // about half their 128 bits, as independent random ids do (a clock or counter would
        // leave most high bits equal).
        let differing: Vec<u32> =
            ids.windows(2).map(|w| w[0].0.iter().zip(w[1].0.iter()).map(|(a, b)| (a ^ b).count_ones()).sum()).collect();
        let mean = differing.iter().sum::<u32>() as f64 / differing.len() as f64;
        assert!((60.0..68.0).contains(&mean), "mean differing bits {mean}");
        assert!(differing.iter().all(|&d| d > 20), "{differing:?}");
        // Every bit position takes both values across the thousand.
        for bit in 0..128 {
            let ones = ids.iter().filter(|id| id.0[bit / 8] >> (bit % 8) & 1 == 1).count();
            assert!((350..650).contains(&ones), "bit {bit} set in {ones} of 1000");
        }
    }

    #[test]
    fn ids_round_trip_and_bad_ones_are_refused() {
        let id = SessionId::random().unwrap();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(SessionId::parse(&text), Some(id));
        assert_eq!(SessionId::parse(&text.to_uppercase()), Some(id));
        assert_eq!(SessionId::parse(&text[..31]), None);
        assert_eq!(SessionId::parse("zz".repeat(16).as_str()), None);
        assert_eq!(SessionId::parse("é".repeat(16).as_str()), None);
        let mut other = text.clone().into_bytes();
        other[31] = if other[31] == b'0' { b'1' } else { b'0' };
        assert_ne!(SessionId::parse(std::str::from_utf8(&other).unwrap()), Some(id));
    }
}
