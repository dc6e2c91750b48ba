//! chart: "here are the headline figures of every year, give me a PNG with
//! this year highlighted". One panel per headline metric (protection
//! measures, detained batches, detained pieces, as the vocabulary marks
//! them), a bar per year, the broadcast's year in red, values in 万, Chinese
//! labels drawn with an embedded subset of Noto Sans SC (SIL OFL 1.1, see
//! `src/chart/fonts/`).
//!
//! Invariant: pure. The figures are the ones a summary cites
//! (`answer::headline_figure`); no file, font directory or clock is read.
//! A character the embedded font lacks is skipped, never a panic.

use crate::domain::model::Fact;
use crate::domain::replies;
use crate::knowledge::snapshot::Snapshot;
use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::sync::OnceLock;

/// The chart's size in pixels.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 720;

/// Colours (RGB).
pub const BACKGROUND: [u8; 3] = [0xFF, 0xFF, 0xFF];
pub const HIGHLIGHT: [u8; 3] = [0xC8, 0x10, 0x2E];
pub const OTHER_YEARS: [u8; 3] = [0x8F, 0xA8, 0xC4];
const INK: [u8; 3] = [0x1F, 0x29, 0x37];
const MUTED: [u8; 3] = [0x6B, 0x72, 0x80];
const RULE: [u8; 3] = [0xD1, 0xD5, 0xDB];
const PANEL: [u8; 3] = [0xF7, 0xF8, 0xFA];

/// The embedded font's bytes.
pub static FONT_DATA: &[u8] = include_bytes!("fonts/NotoSansSC-chart-subset.otf");

/// The embedded font, parsed once.
pub fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(FONT_DATA)
            .expect("the embedded chart font is a valid OpenType font")
    })
}

/// The characters of `text` the embedded font has no glyph for (spaces
/// and control characters aside).
pub fn missing_glyphs(text: &str) -> Vec<char> {
    let f = font();
    text.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && f.glyph_id(*c).0 == 0)
        .collect()
}

/// Why no chart was drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The fact table has no nationwide full-year headline figure at all.
    #[error("no headline figures to chart")]
    NoFigures,
    /// The PNG encoder failed (an internal fault).
    #[error("PNG encoding: {0}")]
    Encode(#[from] png::EncodingError),
}

/// One panel: a metric's figure per year (None where the year lacks it).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub metric: String,
    /// Panel title, with the unit: 扣留侵权嫌疑货物批次（批次）.
    pub title: String,
    pub values: Vec<Option<Decimal>>,
}

/// What the chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    /// The x axis, ascending.
    pub years: Vec<u16>,
    pub highlighted: u16,
    pub series: Vec<Series>,
}

/// The headline figures of every year with nationwide full-year headline
/// figures (and the highlighted year), one series per headline metric.
pub fn chart_data(snapshot: &Snapshot, highlighted: u16) -> ChartData {
    let mut years = snapshot.headline_years();
    if !years.contains(&highlighted) {
        years.push(highlighted);
        years.sort_unstable();
    }
    let series = snapshot
        .vocabulary
        .metrics
        .iter()
        .filter(|m| m.headline)
        .map(|m| Series {
            metric: m.id.clone(),
            title: replies::chart_panel_title(&m.zh, m.units.first().map(String::as_str)),
            values: years
                .iter()
                .map(|&y| {
                    crate::domain::answer::headline_figure(snapshot, y, &m.id)
                        .map(|f: &Fact| f.value)
                })
                .collect(),
        })
        .collect();
    ChartData {
        years,
        highlighted,
        series,
    }
}

/// The broadcast's chart for `year`, as PNG bytes.
pub fn summary_chart(snapshot: &Snapshot, year: u16) -> Result<Vec<u8>, ChartError> {
    render(&chart_data(snapshot, year))
}

/// Draws the chart and encodes it as PNG.
pub fn render(data: &ChartData) -> Result<Vec<u8>, ChartError> {
    if data
        .series
        .iter()
        .all(|s| s.values.iter().all(Option::is_none))
    {
        return Err(ChartError::NoFigures);
    }
    let mut canvas = Canvas::new(WIDTH, HEIGHT, BACKGROUND);
    let margin = 40.0;

    let (first, last) = (
        data.years.first().copied().unwrap_or(data.highlighted),
        data.years.last().copied().unwrap_or(data.highlighted),
    );
    canvas.text(
        &replies::chart_title(first, last),
        margin,
        62.0,
        38.0,
        INK,
        Align::Left,
        true,
    );
    canvas.text(
        replies::chart_note(),
        margin,
        100.0,
        20.0,
        MUTED,
        Align::Left,
        false,
    );
    // Legend, right-aligned on the note's line.
    let [this_year, others] = replies::chart_legend(data.highlighted);
    let mut x = WIDTH as f32 - margin;
    for (label, colour) in [(others, OTHER_YEARS), (this_year, HIGHLIGHT)] {
        let w = text_width(&label, 20.0);
        x -= w;
        canvas.text(&label, x, 100.0, 20.0, INK, Align::Left, false);
        x -= 26.0;
        canvas.rect(x, 85.0, 18.0, 18.0, colour);
        x -= 24.0;
    }

    let n = data.series.len().max(1) as f32;
    let gap = 24.0;
    let top = 130.0;
    let bottom = HEIGHT as f32 - 30.0;
    let panel_w = (WIDTH as f32 - 2.0 * margin - gap * (n - 1.0)) / n;
    for (i, s) in data.series.iter().enumerate() {
        let left = margin + i as f32 * (panel_w + gap);
        draw_panel(&mut canvas, data, s, left, top, panel_w, bottom - top);
    }
    canvas.encode_png()
}

fn draw_panel(
    canvas: &mut Canvas,
    data: &ChartData,
    series: &Series,
    left: f32,
    top: f32,
    width: f32,
    height: f32,
) {
    canvas.rect(left, top, width, height, PANEL);
    let title_size = fit_size(&series.title, width - 24.0, 24.0, 14.0);
    canvas.text(
        &series.title,
        left + width / 2.0,
        top + 40.0,
        title_size,
        INK,
        Align::Center,
        true,
    );

    let plot_left = left + 16.0;
    let plot_w = width - 32.0;
    let base = top + height - 56.0;
    let plot_top = top + 100.0;
    let max = series
        .values
        .iter()
        .flatten()
        .filter_map(|v| v.to_f64())
        .fold(0.0_f64, f64::max);
    let slots = data.years.len().max(1) as f32;
    let slot = plot_w / slots;
    let bar_w = (slot * 0.62).min(96.0);
    let value_labels: Vec<String> = series
        .values
        .iter()
        .map(|v| {
            v.map_or_else(
                || replies::chart_no_value().to_string(),
                replies::chart_value,
            )
        })
        .collect();
    let year_labels: Vec<String> = data.years.iter().map(|&y| replies::chart_year(y)).collect();
    let widest_value = value_labels.iter().map(String::as_str).max_by(|a, b| {
        text_width(a, 20.0)
            .partial_cmp(&text_width(b, 20.0))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let value_size = fit_size(widest_value.unwrap_or(""), slot - 4.0, 20.0, 9.0);
    let year_size = fit_size(
        year_labels.last().map(String::as_str).unwrap_or(""),
        slot - 4.0,
        20.0,
        9.0,
    );

    for (j, (&year, value)) in data.years.iter().zip(&series.values).enumerate() {
        let centre = plot_left + slot * (j as f32 + 0.5);
        let highlighted = year == data.highlighted;
        let colour = if highlighted { HIGHLIGHT } else { OTHER_YEARS };
        let label_colour = if highlighted { HIGHLIGHT } else { INK };
        match value.and_then(|v| v.to_f64()) {
            Some(v) => {
                let h = if max > 0.0 {
                    ((v / max) as f32 * (base - plot_top)).max(2.0)
                } else {
                    2.0
                };
                canvas.rect(centre - bar_w / 2.0, base - h, bar_w, h, colour);
                canvas.text(
                    &value_labels[j],
                    centre,
                    base - h - 10.0,
                    value_size,
                    label_colour,
                    Align::Center,
                    highlighted,
                );
            }
            None => canvas.text(
                &value_labels[j],
                centre,
                base - 12.0,
                value_size * 0.8,
                MUTED,
                Align::Center,
                false,
            ),
        }
        canvas.text(
            &year_labels[j],
            centre,
            base + 32.0,
            year_size,
            label_colour,
            Align::Center,
            highlighted,
        );
    }
    canvas.rect(plot_left, base, plot_w, 2.0, RULE);
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
}

/// The advance width of `text` at `size` px; missing glyphs count as a
/// half-em gap.
pub fn text_width(text: &str, size: f32) -> f32 {
    let f = font();
    let scaled = f.as_scaled(PxScale::from(size));
    text.chars()
        .map(|c| {
            let id = f.glyph_id(c);
            if id.0 == 0 {
                size / 2.0
            } else {
                scaled.h_advance(id)
            }
        })
        .sum()
}

/// The largest size ≤ `max` (and ≥ `min`) at which `text` fits in `width`.
fn fit_size(text: &str, width: f32, max: f32, min: f32) -> f32 {
    let w = text_width(text, max);
    if w <= width || w <= 0.0 {
        max
    } else {
        (max * width / w).max(min)
    }
}

/// An RGB pixel buffer with just what the chart needs.
struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<[u8; 3]>,
}

impl Canvas {
    fn new(width: u32, height: u32, background: [u8; 3]) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![background; (width * height) as usize],
        }
    }

    fn blend(&mut self, x: i32, y: i32, colour: [u8; 3], coverage: f32) {
        if x < 0 || y < 0 || x >= self.width as i32 || y >= self.height as i32 {
            return;
        }
        let a = coverage.clamp(0.0, 1.0);
        let p = &mut self.pixels[(y as u32 * self.width + x as u32) as usize];
        for k in 0..3 {
            p[k] = (p[k] as f32 * (1.0 - a) + colour[k] as f32 * a).round() as u8;
        }
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: [u8; 3]) {
        let (x0, y0) = (x.round() as i32, y.round() as i32);
        let (x1, y1) = ((x + w).round() as i32, (y + h).round() as i32);
        for yy in y0..y1 {
            for xx in x0..x1 {
                self.blend(xx, yy, colour, 1.0);
            }
        }
    }

    /// Draws `text` with its baseline at `baseline`; `x` is the left edge or
    /// the centre. Bold is the regular face drawn twice, 0.8 px apart.
    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        text: &str,
        x: f32,
        baseline: f32,
        size: f32,
        colour: [u8; 3],
        align: Align,
        bold: bool,
    ) {
        let f = font();
        let scale = PxScale::from(size);
        let scaled = f.as_scaled(scale);
        let start = match align {
            Align::Left => x,
            Align::Center => x - text_width(text, size) / 2.0,
        };
        let passes: &[f32] = if bold { &[0.0, 0.8] } else { &[0.0] };
        for &dx in passes {
            let mut pen = start + dx;
            for c in text.chars() {
                let id = f.glyph_id(c);
                if id.0 == 0 {
                    pen += size / 2.0;
                    continue;
                }
                let glyph = id.with_scale_and_position(scale, point(pen, baseline));
                if let Some(outlined) = f.outline_glyph(glyph) {
                    let bounds = outlined.px_bounds();
                    let (bx, by) = (bounds.min.x as i32, bounds.min.y as i32);
                    outlined.draw(|gx, gy, coverage| {
                        self.blend(bx + gx as i32, by + gy as i32, colour, coverage);
                    });
                }
                pen += scaled.h_advance(id);
            }
        }
    }

    fn encode_png(&self) -> Result<Vec<u8>, ChartError> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_compression(png::Compression::High);
            let mut writer = encoder.write_header()?;
            let raw: Vec<u8> = self.pixels.iter().flatten().copied().collect();
            writer.write_image_data(&raw)?;
            writer.finish()?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ChartData {
        ChartData {
            years: vec![2016, 2020, 2024],
            highlighted: 2024,
            series: vec![
                Series {
                    metric: "detained_batches".into(),
                    title: "扣留侵权嫌疑货物批次（批次）".into(),
                    values: vec![
                        Some(Decimal::from(29000)),
                        Some(Decimal::from(61900)),
                        Some(Decimal::from(41600)),
                    ],
                },
                Series {
                    metric: "protection_measures".into(),
                    title: "知识产权保护措施（次）".into(),
                    values: vec![None, Some(Decimal::from(64300)), Some(Decimal::from(53200))],
                },
            ],
        }
    }

    #[test]
    fn chart_wording_has_every_glyph() {
        for text in [
            replies::chart_title(2016, 2024),
            replies::chart_note().to_string(),
            replies::chart_no_value().to_string(),
            replies::chart_year(2024),
            replies::chart_value(Decimal::from(81605100)),
        ]
        .into_iter()
        .chain(replies::chart_legend(2024))
        {
            assert_eq!(missing_glyphs(&text), Vec::<char>::new(), "{text}");
        }
    }

    #[test]
    fn a_character_missing_from_the_font_is_skipped_not_a_panic() {
        let mut data = sample();
        data.series[0].title = "扣留𠀀ꙮ批次🦀".into();
        assert!(!missing_glyphs(&data.series[0].title).is_empty());
        let png = render(&data).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let _ = std::fs::write(
            std::env::temp_dir().join("customs-ip-bot-chart-missing-glyphs.png"),
            png,
        );
    }

    #[test]
    fn nothing_to_chart_is_an_error_value() {
        let mut data = sample();
        for s in &mut data.series {
            s.values = vec![None; 3];
        }
        assert!(matches!(render(&data), Err(ChartError::NoFigures)));
    }

    #[test]
    fn many_years_still_render() {
        let years: Vec<u16> = (2001..=2024).collect();
        let data = ChartData {
            highlighted: 2024,
            series: vec![Series {
                metric: "detained_pieces".into(),
                title: "扣留侵权嫌疑货物数量（件）".into(),
                values: years
                    .iter()
                    .map(|&y| Some(Decimal::from(y as i64 * 40_000)))
                    .collect(),
            }],
            years,
        };
        let png = render(&data).unwrap();
        let _ = std::fs::write(
            std::env::temp_dir().join("customs-ip-bot-chart-many-years.png"),
            png,
        );
    }

    #[test]
    fn chart_values_are_in_wan_to_two_decimals() {
        assert_eq!(replies::chart_value(Decimal::from(41600)), "4.16万");
        assert_eq!(replies::chart_value(Decimal::from(81605100)), "8160.51万");
        assert_eq!(replies::chart_value(Decimal::from(56181949)), "5618.19万");
        assert_eq!(replies::chart_value(Decimal::from(850)), "850");
    }
}
