package httpx

import "os"

// logOutput is where NewLogger writes: Lambda ships stdout to CloudWatch.
var logOutput = os.Stdout
