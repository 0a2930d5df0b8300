//! Containers from JSON: fixed-size arrays, `Vec`s, `Box`es and `Option`s, pools and handles,
//! and `Box<dyn Trait>` objects. Each container is a frame on the builder's work stack while its
//! elements are built (see [`ValueBuilder::run`]).

use super::*;
use coo_runtime::descriptors::layout::{BoxGlue, DynDesc, ImplGlue, OptionGlue};

/// A fixed-size array whose elements are being built in place.
pub(super) struct ArrayFrame<'j, 'v> {
    elem: &'static Shape,
    items: &'j [JsonValue],
    len: usize,
    /// The element being built; those before it are built.
    next: usize,
    dst: *mut u8,
    saved: Saved<'v>,
    /// How to fill the elements the JSON lacks.
    fill: Option<DefaultPlan<'static>>,
}

/// A `Vec` whose elements are being built in its buffer.
pub(super) struct VecFrame<'j, 'v> {
    shape: &'static Shape,
    elem: &'static Shape,
    glue: &'static VecGlue,
    items: &'j [JsonValue],
    /// The element being built; those before it are built.
    next: usize,
    dst: *mut u8,
    buf: *mut u8,
    saved: Saved<'v>,
}

/// The content of a `Box` or a `Some`, built in scratch memory and then moved into the
/// container by `write` (the box's `write_from`, the option's `write_some`).
pub(super) struct MovedFrame<'j, 'v> {
    /// The content to build, until it is asked for.
    content: Option<Task<'j, 'v>>,
    scratch: Scratch,
    dst: *mut u8,
    write: MoveIn,
}

/// A pool whose occupied slots are being built, in slot order.
pub(super) struct PoolFrame<'j, 'v> {
    shape: &'static Shape,
    elem: &'static Shape,
    glue: &'static PoolGlue,
    /// The occupied slots: index, generation and JSON of the value, in increasing index order.
    occupied: Vec<(usize, u32, &'j JsonValue)>,
    /// The generations of vacant slots the snapshot lists.
    vacant: BTreeMap<usize, u32>,
    slots: usize,
    /// The slot being built (or set next); slots before it are set.
    next: usize,
    /// How many of `occupied` are set.
    set: usize,
    /// Where each occupied slot's value is built before `set_slot` moves it in.
    scratch: Scratch,
    dst: *mut u8,
    saved: Saved<'v>,
}

/// How a [`MovedFrame`]'s value goes into its container: the glue of a `Box` or an `Option`,
/// of a shape the state's images keep alive while the value is built.
#[derive(Debug, Clone, Copy)]
pub(super) enum MoveIn {
    Box(&'static BoxGlue),
    Some(&'static OptionGlue),
    /// Into a `Box<dyn Trait>` by the impl of the value's type.
    Dyn(&'static ImplGlue),
}

impl MoveIn {
    /// Moves the value at `src` into a new container at `dst`.
    ///
    /// # Safety
    /// `dst` is valid for writes of the container, `src` holds a valid value of its element,
    /// which the caller gives up.
    unsafe fn write(self, dst: *mut u8, src: *mut u8) {
        match self {
            // SAFETY: the caller's contract is the glue's.
            MoveIn::Box(glue) => unsafe { glue.write_from(dst, src) },
            // SAFETY: as above.
            MoveIn::Some(glue) => unsafe { glue.write_some(dst, src) },
            // SAFETY: as above.
            MoveIn::Dyn(glue) => unsafe { glue.write_box(dst, src) },
        }
    }
}

impl<'j, 'v> Frame<'j, 'v> {
    /// The frame of a `Box` or `Some` of `elem` at `dst`, moved in by `write`.
    pub(super) fn moved(
        elem: &'static Shape,
        json: &'j JsonValue,
        saved: Saved<'v>,
        dst: *mut u8,
        write: MoveIn,
    ) -> Self {
        let scratch = Scratch::for_shape(elem);
        Frame::Moved(MovedFrame {
            content: Some(Task::of_shape(elem, json, scratch.ptr(), saved)),
            scratch,
            dst,
            write,
        })
    }
}

impl<'v> ValueBuilder<'v> {
    /// Checks an array's JSON against its length and opens its frame.
    pub(super) fn open_array<'j>(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        len: usize,
        json: &'j JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        let JsonValue::Array(items) = json else {
            return Err(self.expected(shape, json));
        };
        let too_short = |why: String| {
            ValueError::at(
                ValuePath(self.path.clone()),
                ValueErrorKind::ArrayTooShort {
                    ty: shape_text(shape),
                    len,
                    found: items.len(),
                    why,
                },
            )
        };
        if items.len() > len {
            return Err(ValueError::at(
                self.path(),
                ValueErrorKind::ArrayTooLong {
                    ty: shape_text(shape),
                    len,
                    found: items.len(),
                },
            ));
        }
        let fill = if items.len() < len {
            if self.mode == Mode::Exact {
                return Err(too_short(format!("give all {len}")));
            }
            match DefaultPlan::for_shape(elem) {
                Some(plan) => Some(plan),
                None => {
                    return Err(too_short(format!(
                        "`{}` has no default to fill the rest with; implement `Default` for it or give all {len}",
                        shape_text(elem)
                    )));
                }
            }
        } else {
            None
        };
        Ok(Some(Frame::Array(ArrayFrame {
            elem,
            items,
            len,
            next: 0,
            dst,
            saved,
            fill,
        })))
    }

    /// # Safety
    /// As for [`ValueBuilder::resume`]; `frame.dst` is valid for writes of the array.
    pub(super) unsafe fn resume_array<'j>(
        &mut self,
        frame: &mut ArrayFrame<'j, 'v>,
        last: Option<Result<(), ValueError>>,
    ) -> Resumed<'j, 'v> {
        let ArrayFrame {
            elem,
            items,
            len,
            next,
            dst,
            saved,
            ..
        } = *frame;
        match last {
            None => {}
            Some(Ok(())) => frame.next += 1,
            Some(Err(e)) => {
                // SAFETY: elements `..next` were built and are dropped once.
                unsafe { drop_elements(elem, dst, next) };
                return Err(e);
            }
        }
        let i = frame.next;
        if let Some(item) = items.get(i) {
            // SAFETY: element `i < len` of the array at `dst`.
            let at = unsafe { dst.add(i * elem.size()) };
            return Ok(Some((
                Task::of_shape(elem, item, at, saved),
                Some(Seg::Index(i)),
            )));
        }
        if let Some(fill) = &frame.fill {
            for i in items.len()..len {
                // SAFETY: element `i < len` of the array at `dst`.
                if let Err(e) = unsafe { write_default(fill, dst.add(i * elem.size())) } {
                    // SAFETY: elements `..i` were built or filled above and are dropped once.
                    unsafe { drop_elements(elem, dst, i) };
                    return Err(self.within(Seg::Index(i), |b| b.default_panicked(e)));
                }
            }
            self.report.elements_filled += (len - items.len()) as u64;
        }
        Ok(None)
    }

    /// Allocates a `Vec` for the JSON's elements and opens its frame.
    ///
    /// # Safety
    /// `dst` is valid for writes of `shape`, a `Vec` of `elem`.
    pub(super) unsafe fn open_vec<'j>(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        glue: &'static VecGlue,
        json: &'j JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        let JsonValue::Array(items) = json else {
            return Err(self.expected(shape, json));
        };
        // SAFETY: `dst` is valid for writes of the vector.
        let buf = unsafe { glue.write_with_capacity(dst, items.len()) };
        Ok(Some(Frame::Vec(VecFrame {
            shape,
            elem,
            glue,
            items,
            next: 0,
            dst,
            buf,
            saved,
        })))
    }

    /// # Safety
    /// As for [`ValueBuilder::resume`]; `frame.dst` holds a vector with room for every item.
    pub(super) unsafe fn resume_vec<'j>(
        &mut self,
        frame: &mut VecFrame<'j, 'v>,
        last: Option<Result<(), ValueError>>,
    ) -> Resumed<'j, 'v> {
        let VecFrame {
            shape,
            elem,
            glue,
            items,
            dst,
            buf,
            saved,
            ..
        } = *frame;
        match last {
            None => {}
            Some(Ok(())) => frame.next += 1,
            Some(Err(e)) => {
                // SAFETY: the first `next` elements are built: the vector takes them over and
                // its drop glue drops them, once, and frees the buffer.
                unsafe {
                    glue.set_len(dst, frame.next);
                    shape.drop(dst);
                }
                return Err(e);
            }
        }
        let i = frame.next;
        if let Some(item) = items.get(i) {
            // SAFETY: the buffer has room for `items.len()` elements.
            let at = unsafe { buf.add(i * elem.size()) };
            return Ok(Some((
                Task::of_shape(elem, item, at, saved),
                Some(Seg::Index(i)),
            )));
        }
        // SAFETY: all `items.len()` elements are built, within the capacity.
        unsafe { glue.set_len(dst, items.len()) };
        Ok(None)
    }

    /// # Safety
    /// As for [`ValueBuilder::resume`]; `frame.dst` is valid for writes of the box or option.
    pub(super) unsafe fn resume_moved<'j>(
        frame: &mut MovedFrame<'j, 'v>,
        last: Option<Result<(), ValueError>>,
    ) -> Resumed<'j, 'v> {
        match last {
            None => Ok(Some((frame.content.take().expect("asked for once"), None))),
            Some(Ok(())) => {
                // SAFETY: the scratch holds a complete value, which `write` moves into the
                // container at `dst`; the scratch is then only freed, when the frame is dropped.
                unsafe { frame.write.write(frame.dst, frame.scratch.ptr()) };
                Ok(None)
            }
            // Nothing is left in the scratch (the content's own frames dropped what it built).
            Some(Err(e)) => Err(e),
        }
    }

    /// Checks a pool's JSON (its slots in order, the vacant slots listed for it), writes a pool
    /// of vacant slots at `dst` and opens its frame.
    ///
    /// # Safety
    /// `dst` is valid for writes of `shape`, a pool of `elem`.
    pub(super) unsafe fn open_pool<'j>(
        &mut self,
        shape: &'static Shape,
        elem: &'static Shape,
        glue: &'static PoolGlue,
        json: &'j JsonValue,
        dst: *mut u8,
        saved: Saved<'v>,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        let JsonValue::Array(items) = json else {
            return Err(self.expected_text(
                format!(
                    "`{}` (an array of `{{\"index\",\"generation\",\"value\"}}` slots)",
                    shape_text(shape)
                ),
                json,
            ));
        };
        let pool_error =
            |b: &Self, message: String| ValueError::at(b.path(), ValueErrorKind::Pool { message });
        // The occupied slots, in order.
        let mut occupied: Vec<(usize, u32, &'j JsonValue)> = Vec::with_capacity(items.len());
        for (k, item) in items.iter().enumerate() {
            let slot = self.within(Seg::Index(k), |b| b.pool_entry(item))?;
            if let Some(&(previous, _, _)) = occupied.last()
                && slot.0 <= previous
            {
                return Err(pool_error(
                    self,
                    format!(
                        "its slots must be in increasing index order, and slot {} comes after slot {previous}",
                        slot.0
                    ),
                ));
            }
            occupied.push(slot);
        }
        let listed: &[(u32, u32)] = match self.vacant {
            Some(vacant) => vacant
                .get(&self.path().to_string())
                .map_or(&[], Vec::as_slice),
            None => &[],
        };
        let mut vacant: BTreeMap<usize, u32> = BTreeMap::new();
        for &(index, generation) in listed {
            let index = index as usize;
            if vacant.insert(index, generation).is_some()
                || occupied.binary_search_by_key(&index, |o| o.0).is_ok()
            {
                return Err(pool_error(
                    self,
                    format!("slot {index} is listed both as occupied and as vacant"),
                ));
            }
        }
        let slots = occupied
            .last()
            .map(|o| o.0 + 1)
            .max(vacant.last_key_value().map(|(&i, _)| i + 1))
            .unwrap_or(0);
        if slots - occupied.len() - vacant.len() > MAX_UNLISTED_VACANT_SLOTS {
            return Err(pool_error(
                self,
                format!(
                    "its slot indices go up to {} with only {} slots given",
                    slots - 1,
                    occupied.len()
                ),
            ));
        }
        // SAFETY: `dst` is valid for writes of the pool.
        unsafe { glue.write_vacant(dst, slots) };
        Ok(Some(Frame::Pool(Box::new(PoolFrame {
            shape,
            elem,
            glue,
            occupied,
            vacant,
            slots,
            next: 0,
            set: 0,
            scratch: Scratch::for_shape(elem),
            dst,
            saved,
        }))))
    }

    /// # Safety
    /// As for [`ValueBuilder::resume`]; `frame.dst` holds the pool written by
    /// [`ValueBuilder::open_pool`], its slots before `frame.next` set.
    pub(super) unsafe fn resume_pool<'j>(
        &mut self,
        frame: &mut PoolFrame<'j, 'v>,
        last: Option<Result<(), ValueError>>,
    ) -> Resumed<'j, 'v> {
        match last {
            None => {}
            Some(Ok(())) => {
                let (i, generation, _) = frame.occupied[frame.set];
                // SAFETY: slots are set in order; the scratch holds a complete value, which
                // `set_slot` moves into the pool; the scratch is then only reused or freed.
                unsafe {
                    frame
                        .glue
                        .set_slot(frame.dst, i, generation, frame.scratch.ptr())
                };
                frame.set += 1;
                frame.next += 1;
            }
            Some(Err(e)) => {
                // SAFETY: the pool holds slots `..next`, set in order: a valid pool, which its
                // drop glue drops with the values in it, once.
                unsafe { frame.shape.drop(frame.dst) };
                return Err(e);
            }
        }
        while frame.next < frame.slots {
            let i = frame.next;
            match frame.occupied.get(frame.set) {
                Some(&(index, _, value)) if index == i => {
                    let task = Task::of_shape(frame.elem, value, frame.scratch.ptr(), frame.saved);
                    return Ok(Some((task, Some(Seg::Index(i)))));
                }
                _ => {
                    let generation = frame.vacant.get(&i).copied().unwrap_or(0);
                    // SAFETY: slots are set in order; a null source leaves the slot vacant.
                    unsafe {
                        frame
                            .glue
                            .set_slot(frame.dst, i, generation, core::ptr::null_mut())
                    };
                    frame.next += 1;
                }
            }
        }
        Ok(None)
    }

    /// One occupied slot of a pool: `{"index":i,"generation":g,"value":v}`.
    fn pool_entry<'j>(
        &mut self,
        item: &'j JsonValue,
    ) -> Result<(usize, u32, &'j JsonValue), ValueError> {
        let shape_error = || {
            ValueError::at(
                self.path(),
                ValueErrorKind::Pool {
                    message: format!(
                        "its slots are objects `{{\"index\":i,\"generation\":g,\"value\":v}}`, not {}",
                        item.kind()
                    ),
                },
            )
        };
        let JsonValue::Object(members) = item else {
            return Err(shape_error());
        };
        if members.len() != 3 {
            return Err(shape_error());
        }
        let (Some(index), Some(generation), Some(value)) =
            (item.get("index"), item.get("generation"), item.get("value"))
        else {
            return Err(shape_error());
        };
        let index = self.within(Seg::Name("index".into()), |b| b.u32_of(index))?;
        let generation = self.within(Seg::Name("generation".into()), |b| b.u32_of(generation))?;
        Ok((index as usize, generation, value))
    }

    fn u32_of(&self, json: &JsonValue) -> Result<u32, ValueError> {
        let mut out = 0u32;
        // SAFETY: `out` is a `u32`, valid for writes.
        unsafe { self.build_prim(Prim::U32, json, (&mut out as *mut u32).cast(), None)? };
        Ok(out)
    }

    /// The index and generation of a handle to `target`: `{"handle":"T","index":i,"generation":g}`.
    pub(super) fn handle_parts(
        &mut self,
        target: &TypeDesc,
        json: &JsonValue,
    ) -> Result<(u32, u32), ValueError> {
        let expected = format!(
            "`Handle<{0}>` (`{{\"handle\":\"{0}\",\"index\":i,\"generation\":g}}`)",
            target.name()
        );
        let (
            JsonValue::Object(members),
            Some(JsonValue::String(name)),
            Some(index),
            Some(generation),
        ) = (
            json,
            json.get("handle"),
            json.get("index"),
            json.get("generation"),
        )
        else {
            return Err(self.expected_text(expected, json));
        };
        if members.len() != 3 {
            return Err(self.expected_text(expected, json));
        }
        if !target.answers_to(name) {
            return Err(ValueError::at(
                self.path(),
                ValueErrorKind::HandleTarget {
                    expected: target.name().to_owned(),
                    found: name.clone(),
                },
            ));
        }
        let index = self.within(Seg::Name("index".into()), |b| b.u32_of(index))?;
        let generation = self.within(Seg::Name("generation".into()), |b| b.u32_of(generation))?;
        Ok((index, generation))
    }
}

impl<'v> ValueBuilder<'v> {
    /// A `Box<dyn Trait>` (of the trait `d`) from `{"Type":value}`: the frame of the value of
    /// the type's impl, boxed by that impl.
    pub(super) fn open_dyn<'j>(
        &mut self,
        d: &'static DynDesc,
        json: &'j JsonValue,
        dst: *mut u8,
    ) -> Result<Option<Frame<'j, 'v>>, ValueError> {
        // Tagged with the concrete type's name: `{"Bicycle":{..}}`.
        let (tag, inner) = match json {
            JsonValue::Object(members) if members.len() == 1 => (&members[0].0, &members[0].1),
            other => {
                return Err(self.expected_text(
                    format!(
                        "a `Box<dyn {}>` (an object of one member: the type's name and \
                         its value, `{{\"Type\":{{..}}}}`)",
                        d.trait_name()
                    ),
                    other,
                ));
            }
        };
        let impls = d.impls();
        // The impl of that type, or of the type renamed from it.
        let imp = impls.iter().find(|i| i.type_name() == tag).or_else(|| {
            impls
                .iter()
                .find(|i| i.ty().rename_from().contains(&tag.as_str()))
        });
        let Some(imp) = imp else {
            return Err(ValueError::at(
                self.path(),
                ValueErrorKind::UnknownImpl {
                    trait_name: d.trait_name().to_owned(),
                    ty: tag.clone(),
                    impls: {
                        let mut names: Vec<String> =
                            impls.iter().map(|i| i.type_name().to_owned()).collect();
                        names.sort();
                        names
                    },
                },
            ));
        };
        Ok(Some(Frame::moved(
            imp.shape(),
            inner,
            None,
            dst,
            MoveIn::Dyn(imp.glue()),
        )))
    }
}
