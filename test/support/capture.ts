// What a command run in this process (its `main`) writes, kept for the test to read.
import { Writable } from "stream";

/** A stream that keeps what is written to it. */
export class Capture extends Writable {
    text = "";
    override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
        this.text += chunk.toString();
        done();
    }
}
