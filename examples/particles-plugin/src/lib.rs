//! Particles bouncing in a box, drawn by the host's canvas: the plugin of
//! `cargo run -p particles`. Edit it while it runs: change `GLYPH` or `COLOR`, the gravity in
//! `tick`, or add a field to `Particle` (with `#[coo(default = ...)]`); every save is rebuilt
//! and reloaded, and the particles keep their positions.

use coo_runtime::{CooType, hot_fn};
use particles_canvas::{Canvas, Color};

/// How a particle is drawn.
const GLYPH: char = 'o';
const COLOR: Color = Color::Yellow;

/// The box, in world units (one unit is one cell).
const WIDTH: f32 = 40.0;
const HEIGHT: f32 = 12.0;

/// A point or a velocity.
#[derive(CooType, Debug, Clone, Copy, Default, PartialEq)]
pub struct Vec2 {
    pub x: f32,
    pub y: f32,
}

#[derive(CooType, Debug)]
pub struct Particle {
    pub pos: Vec2,
    pub vel: Vec2,
}

/// The simulation: the resource every hot function works on.
#[derive(CooType, Debug)]
pub struct World {
    pub tick: u64,
    pub particles: Vec<Particle>,
    pub gravity: f32,
}

/// Called once by the host; the returned `World` becomes the live resource.
#[hot_fn]
pub fn init() -> World {
    World {
        tick: 0,
        particles: (0..8)
            .map(|i| Particle {
                pos: Vec2 {
                    x: 2.0 + 4.5 * i as f32,
                    y: 1.0 + (i % 4) as f32 * 2.0,
                },
                vel: Vec2 {
                    x: 0.3 + 0.1 * i as f32,
                    y: 0.0,
                },
            })
            .collect(),
        gravity: 0.05,
    }
}

/// Advances the simulation by one frame.
#[hot_fn]
pub fn tick(world: &mut World) {
    world.tick += 1;
    for p in &mut world.particles {
        p.vel.y += world.gravity;
        p.pos.x += p.vel.x;
        p.pos.y += p.vel.y;
        if p.pos.y > HEIGHT - 1.0 {
            p.pos.y = 2.0 * (HEIGHT - 1.0) - p.pos.y;
            p.vel.y = -p.vel.y;
        }
        if p.pos.x < 0.0 || p.pos.x > WIDTH - 1.0 {
            p.pos.x = p.pos.x.clamp(0.0, WIDTH - 1.0);
            p.vel.x = -p.vel.x;
        }
    }
}

/// Draws the box and the particles into the host's canvas.
#[hot_fn]
pub fn draw(world: &World, #[host] canvas: &mut Canvas) {
    canvas.clear();
    let (w, h) = (WIDTH as i64 + 2, HEIGHT as i64 + 2);
    for x in 0..w {
        canvas.put(x, 0, '-', Color::Grey);
        canvas.put(x, h - 1, '-', Color::Grey);
    }
    for y in 0..h {
        canvas.put(0, y, '|', Color::Grey);
        canvas.put(w - 1, y, '|', Color::Grey);
    }
    for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
        canvas.put(x, y, '+', Color::Grey);
    }
    for p in &world.particles {
        canvas.put(
            1 + p.pos.x.round() as i64,
            1 + p.pos.y.round() as i64,
            GLYPH,
            COLOR,
        );
    }
}

/// The particles' positions, for the host to print (a `std` type as a host object).
#[hot_fn]
pub fn positions(world: &World, #[host] out: &mut Vec<[f32; 2]>) {
    out.clear();
    out.extend(world.particles.iter().map(|p| [p.pos.x, p.pos.y]));
}

/// The frame counter.
#[hot_fn]
pub fn ticks(world: &World) -> u64 {
    world.tick
}
