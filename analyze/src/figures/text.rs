//! Text from the embedded font, measured and rasterized the same way in
//! every figure.
//!
//! plotters' `ab_glyph` text path lays glyphs out at whole pixels and drops
//! each glyph's left bearing, so PNG labels come out unevenly spaced
//! ("wall_tim e"); it also measures text at a larger size than the SVG it
//! writes (`font-size` = size / 1.24). [`Embedded`] wraps a plotters backend
//! and fixes both: it measures text with the font's advances and kerning at
//! the SVG's size, and on raster backends draws the glyphs itself with
//! ab_glyph at sub-pixel positions, honoring the anchor and the rotation
//! (`FontTransform`) of the style. On SVG it only measures; the `<text>`
//! element is plotters' own. Vertical anchors follow the SVG backend's
//! offsets (top: baseline 0.76 em below; center: 0.5 ex below; bottom:
//! 0.5 ex above), so both formats place text alike.

use std::sync::{Once, OnceLock};

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{FontStyle, FontTransform};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// The family every text element uses. plotters looks the registered font up
/// by this exact string; SVG writes it as the `font-family` attribute, where
/// it reads as a CSS list with a generic fallback.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

/// DejaVu Sans 2.37 (Debian fonts-dejavu-core), license in
/// `analyze/assets/DejaVuSans-LICENSE.txt`.
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The embedded font's bytes (for the PDF converter's font database).
pub fn font_bytes() -> &'static [u8] {
    FONT
}

/// x-height of DejaVu Sans in em (OS/2 sxHeight 1120 / 2048 units).
const X_HEIGHT_EM: f32 = 1120.0 / 2048.0;

/// The parsed embedded font.
fn font() -> Option<&'static FontRef<'static>> {
    static PARSED: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    PARSED
        .get_or_init(|| FontRef::try_from_slice(FONT).ok())
        .as_ref()
}

/// Registers the embedded font with plotters once per process (plotters
/// needs it for its own measurements of tick labels).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            log::error!("the embedded DejaVu Sans could not be parsed");
        }
    });
}

/// The em size in pixels of plotters' font `size` (what SVG writes).
fn em(size: f64) -> f32 {
    (size / 1.24) as f32
}

/// ab_glyph's scale (ascent to descent) for an em size.
fn scale(font: &FontRef<'_>, em: f32) -> PxScale {
    let upm = font.units_per_em().unwrap_or(2048.0);
    PxScale::from(em * font.height_unscaled() / upm)
}

/// Advance width in pixels of `s` at plotters' font `size`, with kerning.
pub fn width(s: &str, size: f64) -> f64 {
    let Some(font) = font() else { return 0.0 };
    let scaled = font.as_scaled(scale(font, em(size)));
    let mut w = 0.0f32;
    let mut prev = None;
    for c in s.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            w += scaled.kern(p, id);
        }
        w += scaled.h_advance(id);
        prev = Some(id);
    }
    w as f64
}

/// A plotters backend whose text is measured (and, when `raster`, drawn)
/// with the embedded font.
#[derive(Debug)]
pub struct Embedded<B> {
    pub inner: B,
    /// Draw glyphs pixel by pixel (bitmap backends); otherwise let the inner
    /// backend write the text (SVG).
    pub raster: bool,
}

impl<B: DrawingBackend> Embedded<B> {
    fn raster_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        let Some(font) = font() else {
            return Err(DrawingErrorKind::FontError(Box::new(FontMissing)));
        };
        let em = em(style.size());
        let scaled = font.as_scaled(scale(font, em));
        let w = width(text, style.size()) as f32;
        let x0 = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -w / 2.0,
            HPos::Right => -w,
        };
        let baseline = match style.anchor().v_pos {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.5 * X_HEIGHT_EM * em,
            VPos::Bottom => -0.5 * X_HEIGHT_EM * em,
        };
        let trans: FontTransform = style.transform();
        let mut pen = x0;
        let mut prev = None;
        let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scaled.scale(), point(pen, baseline));
            if let Some(outlined) = scaled.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    pixels.push((
                        b.min.x as i32 + gx as i32,
                        b.min.y as i32 + gy as i32,
                        coverage,
                    ));
                });
            }
            pen += scaled.h_advance(id);
            prev = Some(id);
        }
        for (x, y, coverage) in pixels {
            if coverage <= 0.0 {
                continue;
            }
            let (dx, dy) = trans.transform(x, y);
            let c = BackendColor {
                alpha: color.alpha * coverage.min(1.0) as f64,
                rgb: color.rgb,
            };
            self.inner.draw_pixel((pos.0 + dx, pos.1 + dy), c)?;
        }
        Ok(())
    }
}

/// The embedded font did not parse (cannot happen with the bundled file).
#[derive(Debug)]
struct FontMissing;

impl std::fmt::Display for FontMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the embedded font could not be parsed")
    }
}

impl std::error::Error for FontMissing {}

impl<B: DrawingBackend> DrawingBackend for Embedded<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        if self.raster {
            self.raster_text(text, style, pos)
        } else {
            self.inner.draw_text(text, style, pos)
        }
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
        // Unrotated, like plotters' own estimate: callers rotate it.
        Ok((
            width(text, style.size()).ceil() as u32,
            em(style.size()).ceil() as u32,
        ))
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }
}
