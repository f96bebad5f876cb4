//! The event types' colours, defined once: the app's moving dots and legend, and the pictures
//! `edasim render` draws, colour an event type the same.

/// Event-type colours on the light theme and on the dark one (each at least 3:1 against the
/// theme's background and every node fill: WCAG's contrast for graphics, tested in the app).
pub const EVENT_LIGHT: [&str; 8] =
    ["#0284c7", "#15803d", "#b45309", "#9333ea", "#db2777", "#0f766e", "#4d7c0f", "#4f46e5"];
pub const EVENT_DARK: [&str; 8] =
    ["#38bdf8", "#4ade80", "#fbbf24", "#c084fc", "#f472b6", "#2dd4bf", "#a3e635", "#818cf8"];
/// Dead letters, on each theme.
pub const DEAD_LIGHT: &str = "#dc2626";
pub const DEAD_DARK: &str = "#f87171";

/// The colour of an event type, as an index into the palettes: stable across runs (FNV-1a of
/// its name).
pub fn event_colour_index(event: &str) -> usize {
    let h = event.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    (h % EVENT_LIGHT.len() as u64) as usize
}

/// `#rrggbb` as its three channels.
pub fn rgb(hex: &str) -> (u8, u8, u8) {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
    ((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stable_and_parse() {
        assert_eq!(event_colour_index("order_request"), event_colour_index("order_request"));
        assert!(event_colour_index("x") < EVENT_LIGHT.len());
        assert_eq!(rgb("#0284c7"), (2, 132, 199));
    }
}
