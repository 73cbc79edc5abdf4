// aws-local-stepfunctions 3.x calls Promise.withResolvers, which Node 20 lacks (Node 22 has it).
// Without it every async task fails with a TypeError that a States.ALL Catch would swallow.
import '../../tools/local/polyfills';
