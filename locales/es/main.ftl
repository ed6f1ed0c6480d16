hello = x
