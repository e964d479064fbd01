export async function createPool(): Promise<never> { throw new Error("todo"); }
