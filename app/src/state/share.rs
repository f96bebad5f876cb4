//! Share links: the topology deflated and base64url-encoded into the URL's fragment
//! (`#t=...`), so a link opens the same canvas on any edasim with nothing stored on a server.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The fragment that carries `topology` (without the `#`).
pub fn encode(topology: &str) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(topology.as_bytes(), 9);
    format!("t={}", URL_SAFE_NO_PAD.encode(packed))
}

/// The topology a fragment carries, or why it carries none.
pub fn decode(fragment: &str) -> Result<String, String> {
    let data = fragment.trim_start_matches('#').strip_prefix("t=").ok_or("the link carries no topology")?;
    let packed = URL_SAFE_NO_PAD.decode(data).map_err(|e| format!("the link is damaged: {e}"))?;
    // A share link is at most a few hundred kilobytes; refuse to inflate beyond the file limit.
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, edasim_sim::topology::MAX_FILE_BYTES)
        .map_err(|e| format!("the link is damaged: {e:?}"))?;
    String::from_utf8(bytes).map_err(|_| "the link is damaged: not text".to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_damage() {
        let text = include_str!("../../../scenarios/order-pipeline.json");
        let f = super::encode(text);
        assert!(f.len() < text.len() / 2, "compressed: {} of {}", f.len(), text.len());
        assert!(f.bytes().all(|b| b.is_ascii_alphanumeric() || b"=-_".contains(&b)), "URL-safe");
        assert_eq!(super::decode(&format!("#{f}")).unwrap(), text);
        assert!(super::decode("#t=!!!").is_err());
        assert!(super::decode("#x=abc").is_err());
        assert!(super::decode("#t=AAAA").is_err());
    }
}
