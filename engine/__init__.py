"""AttriCam engine: face detection, alignment, the attribute model and its runtime. No Qt, no training code."""
