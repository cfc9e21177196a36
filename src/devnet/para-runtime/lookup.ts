/**
 * A small builder over the JSON form of a V15 PortableRegistry (`metadata.toJSON().metadata.v15.lookup`),
 * used to append the Phala types to the shipped asset-hub-kusama metadata. Structural types
 * (Vec, Option, tuples, arrays, Compact) are deduplicated so each shape gets one id.
 */

export interface FieldJson { name: string | null; type: number; typeName: string | null; docs: string[] }
export interface VariantJson { name: string; fields: FieldJson[]; index: number; docs: string[] }
export interface TypeJson { id: number; type: { path: string[]; params: { name: string; type: number | null }[]; def: Record<string, unknown>; docs: string[] } }

/** [name, typeId, typeName?]; a null name makes a tuple-like field. */
export type FieldSpec = [string | null, number, string?]

export class Lookup {
  private readonly cache = new Map<string, number>()

  constructor(readonly types: TypeJson[]) {}

  get(id: number): TypeJson {
    const t = this.types[id]
    if (!t || t.id !== id) throw new Error(`lookup type ${id} missing`)
    return t
  }

  add(def: Record<string, unknown>, path: string[] = [], params: { name: string; type: number | null }[] = []): number {
    const id = this.types.length
    this.types.push({ id, type: { path, params, def, docs: [] } })
    return id
  }

  private cached(key: string, make: () => number): number {
    let id = this.cache.get(key)
    if (id === undefined) {
      id = make()
      this.cache.set(key, id)
    }
    return id
  }

  /** The first type with exactly this path. */
  byPath(path: string): number {
    const t = this.types.find((x) => x.type.path.join('::') === path)
    if (!t) throw new Error(`lookup has no type ${path}`)
    return t.id
  }

  prim(name: 'u8' | 'u16' | 'u32' | 'u64' | 'u128' | 'bool' | 'str'): number {
    const want = name === 'str' ? 'Str' : name[0].toUpperCase() + name.slice(1)
    return this.cached(`prim:${want}`, () => {
      const t = this.types.find((x) => x.type.def.primitive === want && x.type.path.length === 0)
      return t ? t.id : this.add({ primitive: want })
    })
  }

  seq(of: number): number {
    return this.cached(`seq:${of}`, () => {
      const t = this.types.find((x) => (x.type.def.sequence as { type?: number } | undefined)?.type === of && x.type.path.length === 0)
      return t ? t.id : this.add({ sequence: { type: of } })
    })
  }

  arr(len: number, of: number): number {
    return this.cached(`arr:${len}:${of}`, () => {
      const t = this.types.find((x) => {
        const a = x.type.def.array as { len?: number; type?: number } | undefined
        return a?.len === len && a.type === of && x.type.path.length === 0
      })
      return t ? t.id : this.add({ array: { len, type: of } })
    })
  }

  tuple(ids: number[]): number {
    return this.cached(`tuple:${ids.join(',')}`, () => {
      const t = this.types.find((x) => {
        const tu = x.type.def.tuple as number[] | undefined
        return Array.isArray(tu) && tu.length === ids.length && tu.every((v, i) => v === ids[i])
      })
      return t ? t.id : this.add({ tuple: ids })
    })
  }

  compact(of: number): number {
    return this.cached(`compact:${of}`, () => {
      const t = this.types.find((x) => (x.type.def.compact as { type?: number } | undefined)?.type === of)
      return t ? t.id : this.add({ compact: { type: of } })
    })
  }

  option(of: number): number {
    return this.cached(`option:${of}`, () => {
      const t = this.types.find((x) => x.type.path.length === 1 && x.type.path[0] === 'Option' && x.type.params[0]?.type === of)
      if (t) return t.id
      return this.add(
        { variant: { variants: [variant('None', 0, []), variant('Some', 1, [[null, of]])] } },
        ['Option'],
        [{ name: 'T', type: of }],
      )
    })
  }

  composite(path: string[], fields: FieldSpec[], params: { name: string; type: number | null }[] = []): number {
    return this.add({ composite: { fields: fields.map(field) } }, path, params)
  }

  variant(path: string[], variants: VariantJson[], params: { name: string; type: number | null }[] = []): number {
    return this.add({ variant: { variants } }, path, params)
  }

  /** A fieldless enum (errors, simple enums): names in index order. */
  enumOf(path: string[], names: string[], params: { name: string; type: number | null }[] = []): number {
    return this.variant(path, names.map((n, i) => variant(n, i, [])), params)
  }
}

export function field([name, type, typeName]: FieldSpec): FieldJson {
  return { name, type, typeName: typeName ?? null, docs: [] }
}

export function variant(name: string, index: number, fields: FieldSpec[], docs: string[] = []): VariantJson {
  return { name, index, fields: fields.map(field), docs }
}
