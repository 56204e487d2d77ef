import protobuf from 'protobufjs/minimal.js';

// int64 fields (money, stock counts) must decode to JS numbers, as the generated types declare.
// protobufjs returns Long objects whenever the `long` package is installed (it is: protobufjs
// depends on it), and pbjs's --force-number only affects fromObject/toObject. This runs before
// gen/mart.js is evaluated, which bakes the zero value of each int64 field into its prototype.
(protobuf.util as { Long: unknown }).Long = null;
protobuf.configure();
