// Renders every stack under test once, before the cluster tier's tests are declared from them.
import * as path from "path";
import { renderStack, writeRender } from "../../tools/render";
import { RENDER_ROOT, stacksUnderTest } from "./renders";

export default async function globalSetup(): Promise<void> {
    for (const stack of stacksUnderTest()) {
        writeRender(await renderStack(stack), path.join(RENDER_ROOT, stack));
    }
}
