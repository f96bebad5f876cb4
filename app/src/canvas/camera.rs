//! The view onto the world: pan and zoom. The graph (SVG) and the dots (canvas) both draw
//! through it, so a dot stays on its link whatever the zoom.

/// Screen = (world - (x, y)) * k, in CSS pixels from the stage's top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub x: f64,
    pub y: f64,
    pub k: f64,
}

pub const MIN_ZOOM: f64 = 0.1;
pub const MAX_ZOOM: f64 = 4.0;

impl Default for Camera {
    fn default() -> Self {
        Camera { x: 0.0, y: 0.0, k: 1.0 }
    }
}

impl Camera {
    pub fn to_world(self, sx: f64, sy: f64) -> (f64, f64) {
        (sx / self.k + self.x, sy / self.k + self.y)
    }

    #[cfg(test)]
    pub fn to_screen(self, wx: f64, wy: f64) -> (f64, f64) {
        ((wx - self.x) * self.k, (wy - self.y) * self.k)
    }

    /// The SVG transform that draws world coordinates through this camera.
    pub fn transform(self) -> String {
        format!("translate({} {}) scale({})", -self.x * self.k, -self.y * self.k, self.k)
    }

    /// Shows the world rectangle `(x, y, w, h)` whole and centred in a `sw` × `sh` stage,
    /// leaving `top` and `bottom` pixels free (for what floats there: the zoom buttons, the
    /// search box, the legend).
    pub fn fit_between(bounds: (f64, f64, f64, f64), sw: f64, sh: f64, top: f64, bottom: f64) -> Camera {
        let (x, y, w, h) = bounds;
        let free = sh - top - bottom;
        if sw <= 0.0 || free <= 0.0 || w <= 0.0 || h <= 0.0 {
            return Camera::default();
        }
        let k = (sw / w).min(free / h).clamp(MIN_ZOOM, 1.5);
        Camera { x: x - (sw / k - w) / 2.0, y: y - top / k - (free / k - h) / 2.0, k }
    }

    /// Zooms by `factor` keeping the world point under the screen point (sx, sy) where it is.
    pub fn zoom_at(self, sx: f64, sy: f64, factor: f64) -> Camera {
        let k = (self.k * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let (wx, wy) = self.to_world(sx, sy);
        Camera { x: wx - sx / k, y: wy - sy / k, k }
    }

    /// Centres the world point (wx, wy) in a `sw` × `sh` stage.
    pub fn centre_on(self, wx: f64, wy: f64, sw: f64, sh: f64) -> Camera {
        Camera { x: wx - sw / 2.0 / self.k, y: wy - sh / 2.0 / self.k, k: self.k }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_point_under_the_pointer() {
        let c = Camera { x: 100.0, y: -50.0, k: 0.8 };
        let before = c.to_world(300.0, 200.0);
        let z = c.zoom_at(300.0, 200.0, 1.7);
        let after = z.to_world(300.0, 200.0);
        assert!((before.0 - after.0).abs() < 1e-9 && (before.1 - after.1).abs() < 1e-9);
        assert!((z.k - 1.36).abs() < 1e-9);
    }

    #[test]
    fn fit_between_leaves_the_bands_free() {
        let c = Camera::fit_between((0.0, 0.0, 1000.0, 500.0), 1000.0, 600.0, 50.0, 50.0);
        assert_eq!(c.k, 1.0);
        assert_eq!(c.to_screen(0.0, 0.0), (0.0, 50.0));
        assert_eq!(c.to_screen(1000.0, 500.0), (1000.0, 550.0));
    }

    #[test]
    fn fit_shows_the_whole_rectangle_centred() {
        let c = Camera::fit_between((0.0, 0.0, 2000.0, 500.0), 1000.0, 500.0, 0.0, 0.0);
        assert_eq!(c.k, 0.5);
        assert_eq!(c.to_screen(0.0, 0.0), (0.0, 125.0));
        assert_eq!(c.to_screen(2000.0, 500.0), (1000.0, 375.0));
        let round = c.to_world(c.to_screen(123.0, 45.0).0, c.to_screen(123.0, 45.0).1);
        assert!((round.0 - 123.0).abs() < 1e-9);
    }
}
