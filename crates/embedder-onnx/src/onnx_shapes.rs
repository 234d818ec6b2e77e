//! Reads what an ONNX model declares ([`graph_io`]: its inputs and outputs, for the checks of
//! [`crate::models`]) and lets a fully convolutional model that declares a fixed input size
//! run at any size ([`relax_spatial_dims`]).
//!
//! YuNet's export declares a 640x640 input although every operator in it is size-agnostic
//! (convolutions, `Resize` by scale factors, `Reshape` to `[1, -1, k]`); OpenCV's own
//! `FaceDetectorYN::setInputSize` relies on that. ONNX Runtime, though, refuses inputs that
//! differ from the declared shape. [`relax_spatial_dims`] rewrites the model bytes in memory:
//! the input's height and width become symbolic, and the declared output and intermediate
//! shapes (which only restate the 640x640 case) are dropped for ONNX Runtime to infer. The
//! weights and the graph are untouched, so a 640x640 input gives the same outputs as before.
//!
//! Only the few protobuf fields on that path are decoded (ModelProto.graph → GraphProto
//! input/output/value_info → TypeProto.tensor_type → shape → dim); every other byte is
//! copied as it is.

/// ModelProto.graph
const MODEL_GRAPH: u64 = 7;
/// GraphProto.input, .output, .value_info
const GRAPH_INPUT: u64 = 11;
const GRAPH_OUTPUT: u64 = 12;
const GRAPH_VALUE_INFO: u64 = 13;
/// ValueInfoProto.type, TypeProto.tensor_type, TypeProto.Tensor.shape, TensorShapeProto.dim
const VALUE_INFO_TYPE: u64 = 2;
const TYPE_TENSOR: u64 = 1;
const TENSOR_SHAPE: u64 = 2;
const SHAPE_DIM: u64 = 1;
/// Dimension.dim_param (a symbolic name)
const DIM_PARAM: u64 = 2;

const LEN: u8 = 2;

/// The model with every graph input's dimensions from the third on (NCHW height and width)
/// made symbolic, and declared output and intermediate shapes removed.
pub(crate) fn relax_spatial_dims(model: &[u8]) -> Result<Vec<u8>, String> {
    rewrite(model, |field, wire, value, out| {
        if field == MODEL_GRAPH && wire == LEN {
            put_len(out, field, &rewrite_graph(value)?);
            return Ok(true);
        }
        Ok(false)
    })
}

fn rewrite_graph(graph: &[u8]) -> Result<Vec<u8>, String> {
    rewrite(graph, |field, wire, value, out| match (field, wire) {
        (GRAPH_VALUE_INFO, LEN) => Ok(true),
        (GRAPH_OUTPUT, LEN) => {
            put_len(out, field, &drop_shape(value)?);
            Ok(true)
        }
        (GRAPH_INPUT, LEN) => {
            put_len(out, field, &relax_input(value)?);
            Ok(true)
        }
        _ => Ok(false),
    })
}

/// A rewrite of one message's bytes.
type Edit = dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

/// Applies `f` to the tensor type of a ValueInfoProto.
fn edit_tensor_type(value_info: &[u8], f: &Edit) -> Result<Vec<u8>, String> {
    rewrite(value_info, |field, wire, value, out| {
        if field != VALUE_INFO_TYPE || wire != LEN {
            return Ok(false);
        }
        let ty = rewrite(value, |field, wire, value, out| {
            if field != TYPE_TENSOR || wire != LEN {
                return Ok(false);
            }
            put_len(out, field, &f(value)?);
            Ok(true)
        })?;
        put_len(out, field, &ty);
        Ok(true)
    })
}

fn drop_shape(value_info: &[u8]) -> Result<Vec<u8>, String> {
    edit_tensor_type(value_info, &|tensor| {
        rewrite(tensor, |field, wire, _, _| {
            Ok(field == TENSOR_SHAPE && wire == LEN)
        })
    })
}

fn relax_input(value_info: &[u8]) -> Result<Vec<u8>, String> {
    edit_tensor_type(value_info, &|tensor| {
        rewrite(tensor, |field, wire, shape, out| {
            if field != TENSOR_SHAPE || wire != LEN {
                return Ok(false);
            }
            let mut index = 0;
            let relaxed = rewrite(shape, |field, wire, _, out| {
                if field != SHAPE_DIM || wire != LEN {
                    return Ok(false);
                }
                index += 1;
                if index <= 2 {
                    return Ok(false);
                }
                let mut dim = Vec::new();
                put_len(
                    &mut dim,
                    DIM_PARAM,
                    format!("spatial_{}", index - 3).as_bytes(),
                );
                put_len(out, field, &dim);
                Ok(true)
            })?;
            put_len(out, field, &relaxed);
            Ok(true)
        })
    })
}

/// One dimension of a declared tensor shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(i64),
    /// Symbolic (named) or left unset: any size.
    Any,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Any => f.write_str("?"),
        }
    }
}

/// A graph input or output as the file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    pub name: String,
    /// `None`: no shape declared.
    pub dims: Option<Vec<Dim>>,
}

impl std::fmt::Display for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.dims {
            Some(dims) => {
                let dims: Vec<String> = dims.iter().map(Dim::to_string).collect();
                write!(f, "{} [{}]", self.name, dims.join(", "))
            }
            None => write!(f, "{} [?]", self.name),
        }
    }
}

/// The inputs (weights excluded: old files list them as inputs too) and outputs a model's
/// graph declares, read from its bytes without loading it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GraphIo {
    pub inputs: Vec<Tensor>,
    pub outputs: Vec<Tensor>,
}

/// GraphProto.initializer; TensorProto.name; ValueInfoProto.name; Dimension.dim_value.
const GRAPH_INITIALIZER: u64 = 5;
const TENSOR_NAME: u64 = 8;
const VALUE_INFO_NAME: u64 = 1;
const DIM_VALUE: u64 = 1;

/// Reads the declared inputs and outputs of an ONNX model.
pub(crate) fn graph_io(model: &[u8]) -> Result<GraphIo, String> {
    let mut graph = None;
    for_each_field(model, |field, wire, value| {
        if field == MODEL_GRAPH && wire == LEN {
            graph = Some(value);
        }
        Ok(())
    })?;
    let graph = graph.ok_or("no graph in the file")?;
    let (mut inputs, mut outputs, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    for_each_field(graph, |field, wire, value| {
        match (field, wire) {
            (GRAPH_INPUT, LEN) => inputs.push(tensor(value)?),
            (GRAPH_OUTPUT, LEN) => outputs.push(tensor(value)?),
            (GRAPH_INITIALIZER, LEN) => weights.push(name_field(value, TENSOR_NAME)?),
            _ => {}
        }
        Ok(())
    })?;
    inputs.retain(|t| !weights.contains(&t.name));
    Ok(GraphIo { inputs, outputs })
}

fn name_field(message: &[u8], wanted: u64) -> Result<String, String> {
    let mut name = String::new();
    for_each_field(message, |field, wire, value| {
        if field == wanted && wire == LEN {
            name = String::from_utf8_lossy(value).into_owned();
        }
        Ok(())
    })?;
    Ok(name)
}

fn tensor(value_info: &[u8]) -> Result<Tensor, String> {
    let name = name_field(value_info, VALUE_INFO_NAME)?;
    let mut dims = None;
    for_each_field(value_info, |field, wire, ty| {
        if field != VALUE_INFO_TYPE || wire != LEN {
            return Ok(());
        }
        for_each_field(ty, |field, wire, tensor| {
            if field != TYPE_TENSOR || wire != LEN {
                return Ok(());
            }
            for_each_field(tensor, |field, wire, shape| {
                if field != TENSOR_SHAPE || wire != LEN {
                    return Ok(());
                }
                let mut found = Vec::new();
                for_each_field(shape, |field, wire, dim| {
                    if field == SHAPE_DIM && wire == LEN {
                        found.push(dimension(dim)?);
                    }
                    Ok(())
                })?;
                dims = Some(found);
                Ok(())
            })
        })
    })?;
    Ok(Tensor { name, dims })
}

fn dimension(dim: &[u8]) -> Result<Dim, String> {
    let mut pos = 0;
    while pos < dim.len() {
        let key = varint(dim, &mut pos)?;
        let (field, wire) = (key >> 3, (key & 7) as u8);
        if field == DIM_VALUE && wire == 0 {
            let value = varint(dim, &mut pos)?;
            return Ok(Dim::Fixed(value as i64));
        }
        skip_value(dim, &mut pos, wire)?;
    }
    Ok(Dim::Any)
}

/// Calls `f(field, wire type, payload)` for every field of one message (a varint's payload is
/// empty).
fn for_each_field<'a>(
    message: &'a [u8],
    mut f: impl FnMut(u64, u8, &'a [u8]) -> Result<(), String>,
) -> Result<(), String> {
    let mut pos = 0;
    while pos < message.len() {
        let key = varint(message, &mut pos)?;
        let (field, wire) = (key >> 3, (key & 7) as u8);
        let payload = skip_value(message, &mut pos, wire)?;
        f(field, wire, payload)?;
    }
    Ok(())
}

/// Moves past one field's value; the payload of a length-delimited one.
fn skip_value<'a>(message: &'a [u8], pos: &mut usize, wire: u8) -> Result<&'a [u8], String> {
    match wire {
        0 => {
            varint(message, pos)?;
            Ok(&message[*pos..*pos])
        }
        1 => skip(message, pos, 8),
        5 => skip(message, pos, 4),
        LEN => {
            let len = varint(message, pos)?;
            let len = usize::try_from(len).map_err(|_| "length overflow".to_owned())?;
            skip(message, pos, len)
        }
        other => Err(format!("unsupported protobuf wire type {other}")),
    }
}

/// Copies the fields of one message, letting `edit(field, wire type, payload, out)` write a
/// replacement (or nothing) and return true for the fields it handled.
fn rewrite(
    message: &[u8],
    mut edit: impl FnMut(u64, u8, &[u8], &mut Vec<u8>) -> Result<bool, String>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(message.len());
    let mut pos = 0;
    while pos < message.len() {
        let start = pos;
        let key = varint(message, &mut pos)?;
        let (field, wire) = (key >> 3, (key & 7) as u8);
        let payload = skip_value(message, &mut pos, wire)?;
        if !edit(field, wire, payload, &mut out)? {
            out.extend_from_slice(&message[start..pos]);
        }
    }
    Ok(out)
}

fn varint(bytes: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*pos).ok_or("truncated protobuf varint")?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("protobuf varint too long".to_owned())
}

fn skip<'a>(bytes: &'a [u8], pos: &mut usize, len: usize) -> Result<&'a [u8], String> {
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or("truncated protobuf field")?;
    let out = &bytes[*pos..end];
    *pos = end;
    Ok(out)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_len(out: &mut Vec<u8>, field: u64, payload: &[u8]) {
    put_varint(out, (field << 3) | u64::from(LEN));
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dimension: fixed or symbolic.
    enum Dim {
        Value(u64),
        Param(&'static str),
    }

    /// A float tensor ValueInfoProto; `dims: None` declares no shape.
    fn value_info(name: &str, dims: Option<&[Dim]>) -> Vec<u8> {
        let mut tensor = Vec::new();
        put_varint(&mut tensor, 1 << 3); // elem_type = FLOAT
        put_varint(&mut tensor, 1);
        if let Some(dims) = dims {
            let mut shape = Vec::new();
            for d in dims {
                let mut dim = Vec::new();
                match d {
                    Dim::Value(v) => {
                        put_varint(&mut dim, 1 << 3);
                        put_varint(&mut dim, *v);
                    }
                    Dim::Param(p) => put_len(&mut dim, DIM_PARAM, p.as_bytes()),
                }
                put_len(&mut shape, SHAPE_DIM, &dim);
            }
            put_len(&mut tensor, TENSOR_SHAPE, &shape);
        }
        let mut ty = Vec::new();
        put_len(&mut ty, TYPE_TENSOR, &tensor);
        let mut vi = Vec::new();
        put_len(&mut vi, 1, name.as_bytes());
        put_len(&mut vi, VALUE_INFO_TYPE, &ty);
        vi
    }

    /// A ModelProto (ir_version 7) around a graph of `fields`.
    fn model(fields: &[(u64, Vec<u8>)]) -> Vec<u8> {
        let mut graph = Vec::new();
        for (field, bytes) in fields {
            put_len(&mut graph, *field, bytes);
        }
        let mut model = Vec::new();
        put_varint(&mut model, 1 << 3);
        put_varint(&mut model, 7);
        put_len(&mut model, MODEL_GRAPH, &graph);
        model
    }

    #[test]
    fn input_height_and_width_become_symbolic_and_other_shapes_go() {
        use Dim::{Param, Value};
        let node = (1, b"node bytes stay".to_vec());
        let original = model(&[
            node.clone(),
            (
                GRAPH_INPUT,
                value_info("input", Some(&[Value(1), Value(3), Value(640), Value(640)])),
            ),
            (
                GRAPH_OUTPUT,
                value_info("out", Some(&[Value(1), Value(6400), Value(1)])),
            ),
            (
                GRAPH_VALUE_INFO,
                value_info("mid", Some(&[Value(1), Value(16), Value(320)])),
            ),
        ]);
        let expected = model(&[
            node,
            (
                GRAPH_INPUT,
                value_info(
                    "input",
                    Some(&[Value(1), Value(3), Param("spatial_0"), Param("spatial_1")]),
                ),
            ),
            (GRAPH_OUTPUT, value_info("out", None)),
        ]);
        assert_eq!(relax_spatial_dims(&original).unwrap(), expected);
    }

    #[test]
    fn malformed_bytes_are_an_error_not_a_panic() {
        assert!(relax_spatial_dims(&[0x3a, 0x05, 0x01]).is_err()); // graph longer than the data
        assert!(relax_spatial_dims(&[0x80]).is_err()); // truncated varint
        assert!(relax_spatial_dims(&[0x3b]).is_err()); // wire type 3
    }
}
