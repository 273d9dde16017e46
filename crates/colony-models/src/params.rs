//! A `VarBuilder` wrapper that records every tensor a model asks for, under its full name. The
//! record lets a model write exactly its own weights back to safetensors, and lets a loader reject
//! a checkpoint that carries tensors the model never asked for (a sign of a config mismatch).

use std::cell::RefCell;
use std::rc::Rc;

use candle_core::{Shape, Tensor};
use candle_nn::{Init, VarBuilder};

/// Named parameters, in the order the model requested them.
pub(crate) type NamedTensors = Vec<(String, Tensor)>;

/// A scoped view of a `VarBuilder` that shares one record of requested tensors with its children.
#[derive(Clone)]
pub(crate) struct Scope<'a> {
    vb: VarBuilder<'a>,
    // Rc rather than Arc: a scope lives only while one model is being built on one thread.
    seen: Rc<RefCell<NamedTensors>>,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(vb: VarBuilder<'a>) -> Self {
        Scope {
            vb,
            seen: Rc::new(RefCell::new(Vec::new())),
        }
    }

    pub(crate) fn pp(&self, name: impl ToString) -> Self {
        Scope {
            vb: self.vb.pp(name),
            seen: Rc::clone(&self.seen),
        }
    }

    /// Fetches (or, from a `VarMap`, creates with `init`) the tensor `name` in this scope.
    pub(crate) fn get(
        &self,
        shape: impl Into<Shape>,
        name: &str,
        init: Init,
    ) -> candle_core::Result<Tensor> {
        let tensor = self.vb.get_with_hints(shape, name, init)?;
        let prefix = self.vb.prefix();
        let full = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        self.seen.borrow_mut().push((full, tensor.clone()));
        Ok(tensor)
    }

    /// The tensors requested so far through this scope or any scope derived from it.
    pub(crate) fn recorded(&self) -> NamedTensors {
        self.seen.borrow().clone()
    }
}
