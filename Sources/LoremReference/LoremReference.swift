import LoremIO
import LoremModel
