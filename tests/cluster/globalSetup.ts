// Renders every stack under test once, before the cluster tier's tests are declared from them.
import * as path from "path";
import { renderStack, writeRender } from "../../tools/render";
import { RENDER_ROOT, stacksUnderTest, VARIANTS } from "./renders";

export default async function globalSetup(): Promise<void> {
    for (const name of stacksUnderTest()) {
        const variant = VARIANTS[name];
        const files = await renderStack(variant?.stack ?? name, variant?.overrides);
        writeRender(files, path.join(RENDER_ROOT, name));
    }
}
