// Splits a byte stream into newline-terminated lines (the kernel's event channel).

export class LineSplitter {
  private parts: Buffer[] = [];

  push(chunk: Buffer, onLine: (line: Buffer) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const line = this.parts.length ? Buffer.concat([...this.parts, piece]) : piece;
      this.parts = [];
      start = nl + 1;
      onLine(line);
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
  }
}
