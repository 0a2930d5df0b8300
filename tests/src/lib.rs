//! End-to-end and compile tests of Coo live in `tests/`.
