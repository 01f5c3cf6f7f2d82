/**
 * A small ONNX graph builder over the official ONNX protobuf schema (the `onnx-proto` package,
 * protobufjs-generated): nodes, initializers, inputs and outputs, encoded to a ModelProto.
 */
import onnxProto from "npm:onnx-proto@8.0.1";

// onnx-proto is CommonJS; under Deno its default export is `{ onnx }`, the generated namespace.
const onnx = (onnxProto as unknown as { onnx: typeof import("npm:onnx-proto@8.0.1").onnx }).onnx;

/** ONNX IR version written into models (ONNX 1.10 schema; opset 17 needs IR ≥ 8). */
const IR_VERSION = 8;
/** Default-domain opset the graphs use. */
export const OPSET = 17;

/** TensorProto element types used here. */
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
/** 64-bit integer element type (shapes, axes, pool indices). */
export const INT64 = onnx.TensorProto.DataType.INT64;

/** A node attribute value: integer, integer list, float or string. */
export type Attr =
  | { readonly i: number }
  | { readonly ints: readonly number[] }
  | { readonly f: number }
  | { readonly s: string };

/** Attribute helpers. */
export const int = (i: number): Attr => ({ i });
/** Integer-list attribute. */
export const ints = (v: readonly number[]): Attr => ({ ints: v });
/** Float attribute. */
export const float = (f: number): Attr => ({ f });
/** String attribute. */
export const str = (s: string): Attr => ({ s });

/** Builds one graph; every tensor is referred to by its (unique) name. */
export class GraphBuilder {
  readonly #nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly #initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  readonly #inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly #outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly #constants = new Map<string, string>();
  #counter = 0;

  /** A fresh tensor name starting with `prefix`. */
  fresh(prefix: string): string {
    return `${prefix}__${this.#counter++}`;
  }

  /** Adds a node with one output and returns the output's name. */
  op(
    type: string,
    inputs: readonly string[],
    attrs: Record<string, Attr> = {},
    out?: string,
  ): string {
    return this.opMulti(type, inputs, 1, attrs, out ? [out] : undefined)[0];
  }

  /** Adds a node with `outputs` outputs and returns their names. */
  opMulti(
    type: string,
    inputs: readonly string[],
    outputs: number,
    attrs: Record<string, Attr> = {},
    names?: readonly string[],
  ): string[] {
    const outs = names ? [...names] : Array.from({ length: outputs }, () => this.fresh(type));
    this.#nodes.push(
      onnx.NodeProto.create({
        opType: type,
        input: [...inputs],
        output: outs,
        name: this.fresh(`n_${type}`),
        attribute: Object.entries(attrs).map(([name, a]) => attribute(name, a)),
      }),
    );
    return outs;
  }

  /** A float32 initializer of shape `dims`. */
  floats(name: string, dims: readonly number[], data: Float32Array): string {
    this.#initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [...dims],
        dataType: FLOAT,
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      }),
    );
    return name;
  }

  /** A shared float32 scalar constant (deduplicated by value). */
  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = this.floats(this.fresh("const"), [], new Float32Array([value]));
      this.#constants.set(key, name);
    }
    return name;
  }

  /** A shared float32 constant of shape `dims` with every element `value` (deduplicated). */
  filled(dims: readonly number[], value: number): string {
    const key = `fill:${dims.join("x")}:${value}`;
    let name = this.#constants.get(key);
    if (!name) {
      const size = dims.reduce((a, d) => a * d, 1);
      name = this.floats(this.fresh("fill"), dims, new Float32Array(size).fill(value));
      this.#constants.set(key, name);
    }
    return name;
  }

  /** A shared int64 vector constant (shapes, axes, pads). */
  int64s(values: readonly number[]): string {
    const key = `i:${values.join(",")}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = this.fresh("ints");
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      this.#initializers.push(
        onnx.TensorProto.create({
          name,
          dims: [values.length],
          dataType: INT64,
          rawData: new Uint8Array(data.buffer),
        }),
      );
      this.#constants.set(key, name);
    }
    return name;
  }

  /** Declares a float32 graph input. */
  input(name: string, dims: readonly number[]): string {
    this.#inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Declares a float32 graph output, renaming `tensor` to `name` through an Identity node. */
  output(name: string, tensor: string, dims: readonly number[]): void {
    this.op("Identity", [tensor], {}, name);
    this.#outputs.push(valueInfo(name, dims));
  }

  /** The serialized ModelProto. */
  encode(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: "stylepipe",
      opsetImport: [{ domain: "", version: OPSET }],
      graph: onnx.GraphProto.create({
        name: graphName,
        node: this.#nodes,
        initializer: this.#initializers,
        input: this.#inputs,
        output: this.#outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, a: Attr): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if ("i" in a) return onnx.AttributeProto.create({ name, type: T.INT, i: a.i });
  if ("ints" in a) return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...a.ints] });
  if ("f" in a) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.f });
  return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(a.s) });
}

function valueInfo(
  name: string,
  dims: readonly number[],
): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => ({ dimValue: d })) },
      },
    },
  });
}
