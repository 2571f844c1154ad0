// The proto files behind a set of services, looked up the ways server reflection asks for
// them: by file name, by the full name of any symbol they declare, and by extension.
import { toBinary, type DescExtension, type DescFile, type DescService } from '@bufbuild/protobuf';
import { nestedTypes } from '@bufbuild/protobuf/reflect';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';

export class DescriptorIndex {
  /** Full names of the services, in registration order. */
  readonly serviceNames: readonly string[];
  private readonly files = new Map<string, DescFile>();
  private readonly fileOfSymbol = new Map<string, DescFile>();
  private readonly messageNames = new Set<string>();
  private readonly extensionsOf = new Map<string, DescExtension[]>();
  private readonly encoded = new Map<DescFile, Uint8Array>();

  /** The files of `services`, and `extraFiles`, with everything they import. */
  constructor(services: Iterable<DescService>, extraFiles: Iterable<DescFile> = []) {
    const names = new Set<string>();
    for (const service of services) {
      names.add(service.typeName);
      this.addFile(service.file);
    }
    for (const file of extraFiles) this.addFile(file);
    this.serviceNames = [...names];
  }

  /** A file by its name as imported, e.g. "e2b_toolkit/v1/job.proto". */
  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  /**
   * The file declaring a fully-qualified symbol: a message, enum, service or extension,
   * nested ones included, or a member of one (method, field, oneof, enum value).
   */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.fileOfSymbol.get(symbol.replace(/^\./, ''));
  }

  /** Whether `typeName` is the full name of a message of these files. */
  isMessage(typeName: string): boolean {
    return this.messageNames.has(typeName.replace(/^\./, ''));
  }

  /** The extensions of a message type, by the message's full name. */
  extensionsOfType(typeName: string): readonly DescExtension[] {
    return this.extensionsOf.get(typeName.replace(/^\./, '')) ?? [];
  }

  /** The file, then every file it depends on transitively, each a serialized FileDescriptorProto. */
  encodeWithDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return [...seen].map((f) => this.encode(f));
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const desc of nestedTypes(file)) {
      this.fileOfSymbol.set(desc.typeName, file);
      switch (desc.kind) {
        case 'message':
          this.messageNames.add(desc.typeName);
          for (const member of [...desc.fields, ...desc.oneofs]) this.fileOfSymbol.set(`${desc.typeName}.${member.name}`, file);
          break;
        case 'enum': {
          // Enum values are scoped like C++ enumerators: siblings of their enum, not children.
          const scope = desc.typeName.slice(0, desc.typeName.length - desc.name.length);
          for (const value of desc.values) this.fileOfSymbol.set(`${scope}${value.name}`, file);
          break;
        }
        case 'service':
          for (const method of desc.methods) this.fileOfSymbol.set(`${desc.typeName}.${method.name}`, file);
          break;
        case 'extension': {
          const list = this.extensionsOf.get(desc.extendee.typeName) ?? [];
          list.push(desc);
          this.extensionsOf.set(desc.extendee.typeName, list);
          break;
        }
      }
    }
    file.dependencies.forEach((dep) => this.addFile(dep));
  }
}
