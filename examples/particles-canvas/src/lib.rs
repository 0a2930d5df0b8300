//! The host object of the particles example: a grid of coloured characters that the host owns
//! and renders, and that the plugin's `draw` paints into (`#[host] canvas: &mut Canvas`).
//!
//! Both the host binary (`examples/particles`) and the plugin (`examples/particles-plugin`)
//! depend on this crate, so both see one definition of [`Canvas`]. The host binary is built
//! once: change this crate only with the host stopped. A change of `Canvas`'s size or
//! alignment while it runs is refused at reload, naming the type (see
//! `coo_runtime::plugin::HostType`).

/// A terminal colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    #[default]
    Default,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    White,
    Grey,
}

/// One character cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub ch: char,
    pub color: Color,
}

impl Default for Cell {
    fn default() -> Cell {
        Cell {
            ch: ' ',
            color: Color::Default,
        }
    }
}

/// `width` × `height` cells, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    width: usize,
    height: usize,
    cells: Vec<Cell>,
}

impl Canvas {
    pub fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width,
            height,
            cells: vec![Cell::default(); width * height],
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// Blanks every cell.
    pub fn clear(&mut self) {
        self.cells.fill(Cell::default());
    }

    /// Sets the cell at column `x`, row `y`; outside the canvas, nothing.
    pub fn put(&mut self, x: i64, y: i64, ch: char, color: Color) {
        if (0..self.width as i64).contains(&x) && (0..self.height as i64).contains(&y) {
            self.cells[y as usize * self.width + x as usize] = Cell { ch, color };
        }
    }

    /// The cell at column `x`, row `y`.
    pub fn get(&self, x: usize, y: usize) -> Cell {
        self.cells[y * self.width + x]
    }

    /// Row `y` as text, without colours.
    pub fn row_text(&self, y: usize) -> String {
        self.cells[y * self.width..(y + 1) * self.width]
            .iter()
            .map(|c| c.ch)
            .collect()
    }
}
