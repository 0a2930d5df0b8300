//! A small live simulation for `hot-host run demo-plugin`: particles falling in a box, with
//! weather. Edit it while it runs, type `reload`, and the live state carries over.
//!
//! Try: change what `tick` does; add a field to `Particle` (say
//! `#[coo(default = 1.0)] pub mass: f32`); rename one with `#[coo(rename_from = "vel")]`.

use coo_runtime::{CooType, hot_fn};

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

#[derive(CooType, Debug, Default)]
pub enum Weather {
    #[default]
    Calm,
    Windy {
        strength: f32,
    },
}

/// The simulation: the resource every hot function works on.
#[derive(CooType, Debug)]
pub struct World {
    pub tick: u64,
    pub particles: Vec<Particle>,
    pub weather: Weather,
    pub gravity: Vec2,
}

/// The floor and the walls of the box.
const SIZE: f32 = 10.0;

/// Called once by the host; the returned `World` becomes the live resource.
#[hot_fn]
pub fn init() -> World {
    World {
        tick: 0,
        particles: (0..5)
            .map(|i| Particle {
                pos: Vec2 {
                    x: 1.0 + 2.0 * i as f32,
                    y: SIZE,
                },
                vel: Vec2 { x: 0.5, y: 0.0 },
            })
            .collect(),
        weather: Weather::Calm,
        gravity: Vec2 { x: 0.0, y: -1.0 },
    }
}

/// Advances the simulation by one step.
#[hot_fn]
pub fn tick(world: &mut World) {
    world.tick += 1;
    let wind = match world.weather {
        Weather::Calm => 0.0,
        Weather::Windy { strength } => strength,
    };
    for p in &mut world.particles {
        p.vel.x += wind * 0.1;
        p.vel.y += world.gravity.y * 0.1;
        p.pos.x += p.vel.x * 0.1;
        p.pos.y += p.vel.y * 0.1;
        if p.pos.y < 0.0 {
            p.pos.y = -p.pos.y;
            p.vel.y = -p.vel.y * 0.8;
        }
        if !(0.0..=SIZE).contains(&p.pos.x) {
            p.pos.x = p.pos.x.clamp(0.0, SIZE);
            p.vel.x = -p.vel.x;
        }
    }
}

/// Runs `n` steps.
#[hot_fn]
pub fn run(world: &mut World, n: u32) {
    for _ in 0..n {
        tick(world);
    }
}

/// Adds a particle at rest; returns how many there are.
#[hot_fn]
pub fn spawn(world: &mut World, x: f32, y: f32) -> u32 {
    world.particles.push(Particle {
        pos: Vec2 { x, y },
        vel: Vec2::default(),
    });
    world.particles.len() as u32
}

/// Sets the wind (0 for calm).
#[hot_fn]
pub fn wind(world: &mut World, strength: f32) {
    world.weather = if strength == 0.0 {
        Weather::Calm
    } else {
        Weather::Windy { strength }
    };
}

/// Kinetic energy of all particles (unit masses).
#[hot_fn]
pub fn energy(world: &World) -> f64 {
    world
        .particles
        .iter()
        .map(|p| 0.5 * f64::from(p.vel.x * p.vel.x + p.vel.y * p.vel.y))
        .sum()
}
