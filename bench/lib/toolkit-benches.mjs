// The toolkit section of the bench, in table order.
import { toolkitRoundTripBenches } from './toolkit.mjs';
import { toolkitStreamBenches } from './toolkit-streams.mjs';

export const toolkitBenches = [...toolkitRoundTripBenches, ...toolkitStreamBenches];
